"""
The RL Zoo routes of the attack matrix (tests/test_safe_loading.py holds the file loaders): run folders whose YAML
is beyond a limit or whose wrappers would write elsewhere, model zips with an ``env`` field, ``plot_from_file``'s
pickles, ``train``'s ``vecnormalize.pkl``, RL Zoo's own command with the hook installed, and the comparison in a
working directory holding a crafted ``hyperparams/``. Each crafted file creates a marker file if it is unpickled,
imported or evaluated, and is shown to do so with the opt-in (where the opt-in lets it through).
"""

import json
import pickle
import shutil
import subprocess
import sys
import time
import zipfile

import pytest
import test_safe_loading
import yaml
from stable_baselines3 import DQN
from test_safe_loading import KWARGS, _opted_in, _Payload, _refused, _rewrite_zip
from zoo_helpers import zoo_env

from sb3_cartdqn import CartDQN
from sb3_cartdqn.persistence.trust import TRUST_ENV_VAR, ModelFileError, UntrustedFileError
from sb3_cartdqn.zoo import rl_zoo_hook
from sb3_cartdqn.zoo.cli import main
from sb3_cartdqn.zoo.hub import check_downloaded_run
from sb3_cartdqn.zoo.hyperparams_files import HyperparamsFileError, read_hyperparams_file
from sb3_cartdqn.zoo.run_folder_checks import MAX_DATA_BYTES, check_model_zip, check_run_folder
from sb3_cartdqn.zoo.script_inputs import trained_agent_checked
from sb3_cartdqn.zoo.yaml_files import MAX_YAML_ALIASES, MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES

ENV = "CartPole-v1"
# test_safe_loading's fixtures: no opt-in (TRUST_REMOTE_CODE unset for each test, restored after), a marker file's
# path, and a module on sys.path that creates the marker when imported
_no_opt_in = test_safe_loading._no_opt_in
marker = test_safe_loading.marker
marker_module = test_safe_loading.marker_module


@pytest.fixture(scope="module")
def honest(tmp_path_factory):
    """A CartDQN model zip (data only) and a stock SB3 DQN model zip (SB3's own save)."""
    folder = tmp_path_factory.mktemp("honest_zoo")
    CartDQN("MlpPolicy", ENV, **KWARGS).save(folder / "cartdqn.zip")
    DQN("MlpPolicy", ENV, learning_starts=32, buffer_size=300, seed=0, device="cpu").save(folder / "dqn.zip")
    return folder


def _with_field(source, target, field, value):
    fields = json.loads(zipfile.ZipFile(source).read("data"))
    fields[field] = value
    _rewrite_zip(source, target, "data", json.dumps(fields))
    return target


def _run(tmp_path, model, algo="cartdqn", config="normalize: false\n", args="env_kwargs: null\n"):
    """An RL Zoo run folder logs/ALGO/ENV_1 holding ``model``, config.yml and args.yml; the working directory."""
    run = tmp_path / "logs" / algo / f"{ENV}_1"
    (run / ENV).mkdir(parents=True)
    shutil.copy(model, run / f"{ENV}.zip")
    (run / ENV / "config.yml").write_text(config)
    (run / ENV / "args.yml").write_text(args)
    return run


def _enjoy(algo="cartdqn"):
    return ["enjoy", "--algo", algo, "--env", ENV, "-f", "logs", "--no-render", "-n", "5", "--device", "cpu"]


# YAML limits: refused before the document is built, with or without the opt-in


def _alias_bomb(levels=9, width=9):
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def _expanded_leaves(value, cap):
    """Count the leaves of a built document, aliases expanded (as a reader walking it would), stopping at ``cap``."""
    count, stack = 0, [value]
    while stack and count < cap:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        else:
            count += 1
    return count


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("text", "limit"),
    [
        (_alias_bomb(), "MAX_YAML_NODES"),
        (_alias_bomb(levels=1, width=MAX_YAML_ALIASES + 1), "MAX_YAML_ALIASES"),
        ("a: " + "[" * (MAX_YAML_DEPTH + 1) + "]" * (MAX_YAML_DEPTH + 1) + "\n", "MAX_YAML_DEPTH"),
        ("- " * 2000 + "x\n", "MAX_YAML_DEPTH"),  # YAML's composer recurses once per level
        ("policy_kwargs: 'x'\n" + "#" * MAX_YAML_BYTES + "\n", "MAX_YAML_BYTES"),
        ("normalize: false\nenv_wrapper: null\nnormalize: true\n", "appears twice"),
        ("!!python/object/apply:collections.OrderedDict\n- - [normalize, false]\n  - [normalize, true]\n", "twice"),
    ],
)
def test_run_folder_yaml_beyond_a_limit(tmp_path, text, limit):
    folder = tmp_path / ENV
    folder.mkdir()
    (folder / "config.yml").write_text(text)
    for trust_code in (None, True):  # the limits guard against hangs, not code: the opt-in does not lift them
        start = time.perf_counter()
        with pytest.raises(ModelFileError, match=limit) as error:
            check_run_folder(folder, trust_code=trust_code)
        assert str(folder / "config.yml") in str(error.value) and time.perf_counter() - start < 5
    if limit == "MAX_YAML_NODES":  # live: YAML builds it (shared lists), and a reader walking it never ends
        assert _expanded_leaves(yaml.safe_load(text), 10 * MAX_YAML_NODES) >= 10 * MAX_YAML_NODES


@pytest.mark.timeout(60)
def test_hyperparams_file_beyond_a_limit(tmp_path):
    path = tmp_path / "cartdqn.yml"
    for text, limit in [
        ("CartPole-v1:\n" + "".join(f"  {line}\n" for line in _alias_bomb().splitlines()), "MAX_YAML_NODES"),
        ("CartPole-v1:\n  gamma: 0.9\n  gamma: 0.99\n", "'gamma' appears twice"),
        ("CartPole-v1: " + "[" * 40 + "]" * 40 + "\n", "MAX_YAML_DEPTH"),
    ]:
        path.write_text(text)
        with pytest.raises(HyperparamsFileError, match=limit) as error:
            read_hyperparams_file(path)
        assert str(path) in str(error.value)


def test_alias_bomb_in_a_config_stops_enjoy_at_once(honest, tmp_path, monkeypatch):
    """The issue's route: a config.yml alias bomb through ``python -m sb3_cartdqn.zoo enjoy``."""
    _run(tmp_path, honest / "cartdqn.zip", config=_alias_bomb().replace("a0:", "env_kwargs:\n  a0:", 1))
    monkeypatch.chdir(tmp_path)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match="MAX_YAML_NODES"):
        main(_enjoy())
    assert time.perf_counter() - start < 10


# Files written outside the run folder (wrapper, env and Monitor arguments)

WRITERS = [
    ("env_wrapper:\n- stable_baselines3.common.monitor.Monitor: {{filename: '{target}'}}\n", "x.monitor.csv"),
    ("env_wrapper:\n- gymnasium.wrappers.RecordVideo: {{video_folder: '{target}'}}\n", None),
    ("env_wrapper:\n- gymnasium.wrappers.RecordVideo: {{video_folder: videos, name_prefix: '{target}'}}\n", None),
    ("vec_env_wrapper:\n- stable_baselines3.common.vec_env.VecVideoRecorder: {{video_folder: '{target}'}}\n", None),
    ("callback:\n- rl_zoo3.callbacks.ParallelTrainCallback: {{log_dir: '{target}'}}\n", None),
    ("env_kwargs: {{render_mode: rgb_array, save_path: '{target}'}}\n", None),
    ("monitor_kwargs: dict(filename='{target}')\n", None),
]


@pytest.mark.parametrize(("config", "_written"), WRITERS)
def test_run_folder_file_arguments(tmp_path, config, _written):
    folder = tmp_path / ENV
    folder.mkdir()
    (folder / "config.yml").write_text(config.format(target=tmp_path / "elsewhere" / "x"))
    with pytest.raises(UntrustedFileError) as error:
        check_run_folder(folder)
    _refused(error, folder / "config.yml", "a file or folder RL Zoo would write to")
    check_run_folder(folder, trust_code=True)


@pytest.mark.parametrize("wrapper", ["Monitor", "RecordVideo"])
def test_enjoy_refuses_a_wrapper_that_writes_elsewhere(honest, tmp_path, monkeypatch, wrapper):
    elsewhere = tmp_path / "elsewhere"
    config, written = {
        "Monitor": (WRITERS[0][0], elsewhere / "x.monitor.csv"),
        "RecordVideo": ("env_kwargs: {{render_mode: rgb_array}}\n" + WRITERS[1][0], elsewhere / "x"),
    }[wrapper]
    _run(tmp_path, honest / "cartdqn.zip", config=config.format(target=elsewhere / "x"))
    elsewhere.mkdir()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UntrustedFileError) as error:
        main(_enjoy())
    _refused(error, "config.yml", "a file or folder RL Zoo would write to")
    assert not written.exists()
    main([*_enjoy(), "--trust-code"])  # with the opt-in, RL Zoo's enjoy writes there
    assert written.exists()


# Model zips: an env field SB3's load would build (importing the module its id names)


def test_model_zip_env_field(honest, tmp_path, marker, marker_module):
    path = _with_field(honest / "dqn.zip", tmp_path / "dqn.zip", "env", f"{marker_module}:Env-v0")
    with pytest.raises(UntrustedFileError) as error:
        check_model_zip(path)
    _refused(error, path, "its field 'env'", "marker_module:Env-v0", "gym.make")
    assert not marker.exists()
    cartdqn = _with_field(honest / "cartdqn.zip", tmp_path / "cartdqn.zip", "env", f"{marker_module}:Env-v0")
    with pytest.raises(UntrustedFileError, match="its field 'env'"):
        check_model_zip(cartdqn)
    check_model_zip(honest / "cartdqn.zip")  # an honest file has no env field
    _opted_in(marker, lambda: DQN.load(path, device="cpu"))  # SB3's load without an env builds the file's


@pytest.mark.parametrize("algo", ["dqn", "cartdqn"])
def test_enjoy_refuses_a_model_zip_env_field(honest, tmp_path, monkeypatch, marker, marker_module, algo):
    path = _with_field(honest / f"{algo}.zip", tmp_path / f"{algo}.zip", "env", f"{marker_module}:Env-v0")
    _run(tmp_path, path, algo=algo)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UntrustedFileError) as error:
        main(_enjoy(algo))
    _refused(error, f"{ENV}.zip")
    assert not marker.exists()
    if algo == "dqn":  # SB3's load, given no env by RL Zoo's enjoy, builds the file's env: the module is imported
        _opted_in(marker, lambda: main([*_enjoy(algo), "--trust-code"]))


def test_downloaded_run_with_an_env_field_is_refused(honest, tmp_path, marker, marker_module):
    path = _with_field(honest / "cartdqn.zip", tmp_path / "model.zip", "env", f"{marker_module}:Env-v0")
    run = _run(tmp_path, path)
    with pytest.raises(UntrustedFileError) as error:
        check_downloaded_run(run, ENV)
    _refused(error, run / f"{ENV}.zip", "its field 'env'")
    assert not marker.exists()
    shutil.copy(honest / "cartdqn.zip", run / f"{ENV}.zip")
    check_downloaded_run(run, ENV)


def test_model_zip_duplicated_and_oversized_entries(honest, tmp_path):
    duplicated = tmp_path / "duplicated.zip"
    shutil.copy(honest / "dqn.zip", duplicated)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(duplicated, "a") as archive:
        archive.writestr("data", json.dumps({"env": "x"}))  # the last entry wins for SB3
    with pytest.raises(ModelFileError, match="holds the entries 'data' more than once") as error:
        check_model_zip(duplicated)
    assert str(duplicated) in str(error.value)
    oversized = tmp_path / "oversized.zip"
    with zipfile.ZipFile(oversized, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data", b" " * (MAX_DATA_BYTES + 1))
    assert oversized.stat().st_size < MAX_DATA_BYTES // 100
    with pytest.raises(ModelFileError, match="MAX_DATA_BYTES"):
        check_model_zip(oversized)
    deep = tmp_path / "deep.zip"
    _rewrite_zip(honest / "cartdqn.zip", deep, "data", "[" * 100_000 + "]" * 100_000)
    with pytest.raises(ModelFileError, match="nested too deep"):
        check_model_zip(deep)


# Pickles an RL Zoo script reads because its command line names them


def test_plot_from_file_refuses_pickles(tmp_path, marker, monkeypatch):
    honest_results = {"results_table": {"headers": ["env"], "value_matrix": [[ENV]]}}
    (tmp_path / "results.pkl").write_bytes(pickle.dumps(honest_results))
    (tmp_path / "crafted.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    monkeypatch.chdir(tmp_path)
    for argv, crafted in ((["-i", "crafted"], "crafted.pkl"), (["-i", "results", "--merge", "crafted.pkl"], "results.pkl")):
        with pytest.raises(UntrustedFileError) as error:
            main(["plot_from_file", *argv, "-o", "plot"])
        _refused(error, crafted, "pickle.load")
    assert not marker.exists()
    _opted_in(marker, lambda: main(["plot_from_file", "-i", "results", "--merge", "crafted.pkl", "--trust-code"]))


def test_train_refuses_vecnormalize_pickle_in_the_working_directory(tmp_path, marker, monkeypatch):
    (tmp_path / ENV).mkdir()
    (tmp_path / ENV / "vecnormalize.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    monkeypatch.chdir(tmp_path)
    argv = ["train", "--algo", "cartdqn", "--env", ENV, "-n", "64", "--eval-freq", "-1", "--num-threads", "1"]
    argv += ["--verbose", "0", "--device", "cpu", "-params", "learning_starts:32", "batch_size:16", "buffer_size:100"]
    with pytest.raises(UntrustedFileError) as error:
        main(argv)
    _refused(error, f"{ENV}/vecnormalize.pkl", "VecNormalize.load", "working directory")
    assert not marker.exists()
    _opted_in(marker, lambda: main([*argv, "--trust-code"]))  # RL Zoo's ExperimentManager unpickles it


def test_train_trained_agent_of_another_algorithm(honest, tmp_path, marker):
    agent = tmp_path / "agent"
    agent.mkdir()
    shutil.copy(honest / "cartdqn.zip", agent / "model.zip")  # no pickled field
    (agent / "replay_buffer.pkl").write_bytes(pickle.dumps(_Payload(marker)))
    for algo, refused in (("dqn", True), ("cartdqn", False)):  # CartDQN's load_replay_buffer reads data only
        argv = ["--algo", algo, "--env", ENV, "-i", str(agent / "model.zip")]
        if refused:
            with pytest.raises(UntrustedFileError) as error, trained_agent_checked(argv):
                pass
            _refused(error, agent / "replay_buffer.pkl", "load_replay_buffer")
        else:
            with trained_agent_checked(argv):
                pass
    shutil.copy(honest / "dqn.zip", agent / "model.zip")  # SB3's own save: pickled fields
    with (
        pytest.raises(UntrustedFileError, match="hold pickles"),
        trained_agent_checked(["--algo", "dqn", "-i", str(agent / "model.zip")]),
    ):
        pass
    assert not marker.exists()


# RL Zoo's own command with the hook installed: the same checks as the package's command


def test_rl_zoo_enjoy_with_the_hook_checks_the_run_folder(honest, tmp_path, marker):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    rl_zoo_hook.install(site_dir)
    custom = tmp_path / "sitecustomize_dir"
    custom.mkdir()
    (custom / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(site_dir)!r})\n")
    env = zoo_env()
    env["PYTHONPATH"] = f"{custom}:{env.get('PYTHONPATH', '')}"
    env.pop(TRUST_ENV_VAR, None)
    _run(tmp_path, honest / "cartdqn.zip", config=f"!!python/object/apply:builtins.open ['{marker}', 'w']\n")
    command = [sys.executable, "-m", "rl_zoo3.enjoy", *_enjoy()[1:]]

    def run(*extra):
        return subprocess.run([*command, *extra], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)

    refused = run()
    assert refused.returncode != 0 and "UntrustedFileError" in refused.stderr, refused.stderr
    assert "python/object/apply:builtins.open" in refused.stderr and not marker.exists()
    run("--trust-code")  # the opt-in, as with the package's command: RL Zoo's unsafe loader runs the tag
    assert marker.exists()
    # plot_from_file through the `rl_zoo3` command: the hook stops it before RL Zoo unpickles
    (tmp_path / "crafted.pkl").write_bytes(pickle.dumps(_Payload(tmp_path / "PLOT_MARKER")))
    plot = [sys.executable, "-m", "rl_zoo3.cli", "plot_from_file", "-i", "crafted.pkl"]
    stopped = subprocess.run(plot, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 1 and "crafted.pkl was not loaded" in stopped.stderr, stopped.stderr
    assert not (tmp_path / "PLOT_MARKER").exists()


# The comparison reads its presets from the package, never from the working directory


def test_compare_never_reads_hyperparams_from_the_working_directory(tmp_path, marker, monkeypatch):
    crafted = tmp_path / "hyperparams"
    crafted.mkdir()
    payload = f"dict(net_arch=[open('{marker}', 'w') and 64])"
    for name in ("cartdqn.yml", "cartdqn_robust.yml"):
        (crafted / name).write_text(f'{ENV}:\n  n_timesteps: 1000\n  policy: MlpPolicy\n  policy_kwargs: "{payload}"\n')
    monkeypatch.chdir(tmp_path)
    from sb3_cartdqn.compare import main as compare

    argv = ["--algos", "cartdqn-robust", "--seeds", "1", "--timesteps", "200", "--eval-freq", "100"]
    compare([*argv, "--eval-episodes", "1", "--final-eval-episodes", "1", "--jobs", "1", "--out", "out", "--no-progress-bar"])
    assert not marker.exists()
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert str(crafted) not in json.dumps(results["algorithms"])
    # The same file named explicitly is read by the data-only reader: refused, never evaluated
    with pytest.raises(HyperparamsFileError, match="policy_kwargs"):
        read_hyperparams_file(crafted / "cartdqn_robust.yml")
    assert not marker.exists()
