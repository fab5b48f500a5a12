"""
Distributed optimisation, RL Zoo's way: two worker processes optimise one CartDQN study through a PostgreSQL server.

The server: ``$CARTDQN_TEST_POSTGRES_URL`` if set (an empty database URL), else one started here with Debian's
``postgresql`` binaries on 127.0.0.1 in a temporary folder (``scripts/install_postgres.sh`` installs them; CI runs it).
The test is skipped only when no server can be started, unless ``CARTDQN_REQUIRE_POSTGRES=1`` (set by CI), where it fails.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator

import optuna
import pytest
from zoo_helpers import QUICK, QUICK_OPTIMIZE, finish_zoo, start_zoo

URL_VARIABLE = "CARTDQN_TEST_POSTGRES_URL"
DATABASE = "cartdqn_test"


def _unavailable(reason: str) -> None:
    message = (
        f"PostgreSQL test: {reason}. Install the server (`sudo bash scripts/install_postgres.sh`) "
        f"or point {URL_VARIABLE} at an empty database, e.g. postgresql+psycopg2://user@127.0.0.1:5432/db."
    )
    if os.environ.get("CARTDQN_REQUIRE_POSTGRES") == "1":
        pytest.fail(message)
    pytest.skip(message)


def _pg_binary(name: str) -> str | None:
    """A PostgreSQL server program: Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return candidates[-1] if candidates else shutil.which(name)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url(tmp_path_factory) -> Iterator[str]:
    """URL of an empty PostgreSQL database on loopback, for the duration of this module."""
    if os.environ.get(URL_VARIABLE):
        yield os.environ[URL_VARIABLE]
        return
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        _unavailable("no initdb/pg_ctl found (Debian package `postgresql`)")
    # The server refuses to run as root: run it as the `postgres` user the Debian package creates
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no `postgres` user to run the server as")
    as_user = {"user": user.pw_uid, "group": user.pw_gid} if user else {}
    data_dir = tempfile.mkdtemp(prefix="cartdqn-pg-")
    if user:
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    port = _free_port()
    pg_env = {**os.environ, "LC_ALL": "C", "HOME": data_dir}
    try:
        subprocess.run(
            [initdb, "-D", data_dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
            env=pg_env,
            **as_user,  # type: ignore[arg-type]
        )
        options = f"-h 127.0.0.1 -p {port} -k {data_dir} -F"
        subprocess.run(
            [pg_ctl, "-D", data_dir, "-o", options, "-l", os.path.join(data_dir, "server.log"), "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
            env=pg_env,
            **as_user,  # type: ignore[arg-type]
        )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(data_dir, ignore_errors=True)
        _unavailable(f"the server did not start: {error.stderr.decode(errors='replace')[-500:]}")
    try:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {DATABASE}")
        connection.close()
        # SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3; the tests extra installs psycopg2
        yield f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{DATABASE}"
    finally:
        subprocess.run([pg_ctl, "-D", data_dir, "-m", "fast", "-w", "stop"], capture_output=True, env=pg_env, **as_user)  # type: ignore[arg-type]
        shutil.rmtree(data_dir, ignore_errors=True)


def test_two_workers_share_one_study(postgres_url, tmp_path, capsys):
    study_name = f"cartdqn-shared-{uuid.uuid4().hex[:8]}"
    worker_args = [
        "train",
        "--algo",
        "cartdqn",
        "--env",
        "CartPole-v1",
        *QUICK,
        "-optimize",
        "--storage",
        postgres_url,
        "--study-name",
        study_name,
        *QUICK_OPTIMIZE,
    ]
    # Create the study (and the database schema) once before the workers start, as one does before starting workers on
    # several machines: on an empty database, two workers creating the schema at the same moment collide
    optuna.create_study(study_name=study_name, storage=postgres_url, direction="maximize")
    started = time.time()
    # Two workers, as on two machines: same storage URL and study name, their own folders and seeds
    workers = []
    for seed in (1, 2):
        folder = tmp_path / f"worker{seed}"
        folder.mkdir()
        workers.append(start_zoo([*worker_args, "--seed", str(seed)], folder))
    outputs = [finish_zoo(worker) for worker in workers]

    study = optuna.load_study(study_name=study_name, storage=postgres_url)
    trials = study.get_trials(states=[optuna.trial.TrialState.COMPLETE])
    with capsys.disabled():
        print(f"\nshared study {study_name!r} on {postgres_url}: {len(study.trials)} trials, {len(trials)} complete")
    assert len(study.trials) == len(trials) == 4
    assert sorted(t.number for t in trials) == [0, 1, 2, 3]
    assert all(t.value is not None and t.value > 0 for t in trials)
    # Each worker ran its own 2 trials and saw the study holding the other's (at least 3 trials when it finished)
    finished_counts = [int(out.split("Number of finished trials:")[1].split()[0]) for out in outputs]
    assert all(3 <= count <= 4 for count in finished_counts), finished_counts
    assert max(finished_counts) == 4
    # The trials overlapped in time: the workers ran side by side
    assert all(t.datetime_start.timestamp() >= started - 5 for t in trials)
