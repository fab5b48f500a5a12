"""The opt-in start-up hook: RL Zoo's own ``python -m rl_zoo3.SCRIPT --algo cartdqn`` with CartDQN registered."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import rl_zoo3
import yaml
from rl_zoo3 import ALGOS
from zoo_helpers import zoo_env

from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo import ALGO_NAME, OneSlotBufferLoader, default_config_path, rl_zoo_hook, rl_zoo_startup
from sb3_cartdqn.zoo.cli import SCRIPTS, register_for_rl_zoo_module


def test_hook_covers_every_rl_zoo_script_that_takes_algo():
    # RL Zoo's scripts whose --algo choices come from ALGOS, read from the installed RL Zoo itself
    package = Path(rl_zoo3.__file__).parent
    with_algo_choices = {
        "rl_zoo3." + ".".join(path.relative_to(package).with_suffix("").parts)
        for path in package.rglob("*.py")
        if "choices=list(ALGOS" in path.read_text()
    }
    assert with_algo_choices <= rl_zoo_startup.RL_ZOO_MODULES
    assert with_algo_choices <= {script.module for script in SCRIPTS.values()}
    assert rl_zoo_startup.RL_ZOO_MODULES == with_algo_choices | {"rl_zoo3.cli"}


@pytest.fixture
def algos(monkeypatch):
    """Restore RL Zoo's registry after the test."""
    monkeypatch.setitem(ALGOS, ALGO_NAME, CartDQN)
    return ALGOS


def test_register_for_each_script_as_the_package_command_does(algos):
    argv = ["--algo", "cartdqn", "--env", "CartPole-v1"]
    register_for_rl_zoo_module("rl_zoo3.enjoy", argv)
    assert isinstance(algos[ALGO_NAME], OneSlotBufferLoader) and algos[ALGO_NAME].__name__ == "CartDQN"
    assert argv == ["--algo", "cartdqn", "--env", "CartPole-v1"]
    register_for_rl_zoo_module("rl_zoo3.train", argv)
    assert algos[ALGO_NAME] is CartDQN
    assert argv == ["--algo", "cartdqn", "--env", "CartPole-v1", "--conf-file", str(default_config_path())]
    # The `rl_zoo3` command: the script's name comes first
    argv = ["train", "--algo", "cartdqn"]
    register_for_rl_zoo_module("rl_zoo3.cli", argv)
    assert argv == ["train", "--algo", "cartdqn", "--conf-file", str(default_config_path())]
    # Imported, not run (a user's script, or python -m sb3_cartdqn.zoo, which registered first): kept as it is
    register_for_rl_zoo_module("rl_zoo3.enjoy", ["--algo", "cartdqn"])
    register_for_rl_zoo_module("rl_zoo3.enjoy", None)
    assert isinstance(algos[ALGO_NAME], OneSlotBufferLoader)
    del algos[ALGO_NAME]
    register_for_rl_zoo_module("rl_zoo3.enjoy", None)
    assert algos[ALGO_NAME] is CartDQN


def test_install_writes_one_line_and_uninstall_removes_it(tmp_path):
    written = rl_zoo_hook.install(tmp_path)
    assert written == tmp_path / rl_zoo_hook.PTH_NAME
    (line,) = written.read_text().splitlines()
    assert line.startswith("import ")  # site runs only the lines that start with `import`
    assert repr(str(Path(rl_zoo_startup.__file__).resolve())) in line
    assert rl_zoo_hook.uninstall(tmp_path) == written and not written.exists()
    assert rl_zoo_hook.uninstall(tmp_path) is None


def test_pth_line_does_nothing_once_the_package_is_gone(tmp_path):
    before = list(sys.meta_path)
    exec(rl_zoo_hook.pth_line(tmp_path / "removed.py"))
    assert sys.meta_path == before


def run_python(args, cwd, site_dir=None):
    """Run this Python with ``args``; with ``site_dir``, Python also processes the .pth files there at start-up."""
    env = zoo_env()
    if site_dir is not None:
        # sitecustomize (imported by site at start-up) adds the folder as a site dir, as site-packages is
        custom = cwd / "sitecustomize_dir"
        custom.mkdir(exist_ok=True)
        (custom / "sitecustomize.py").write_text(f"import site\nsite.addsitedir({str(site_dir)!r})\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(custom), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_rl_zoo_commands_know_cartdqn_once_the_hook_is_installed(tmp_path):
    site_dir = tmp_path / "site"
    site_dir.mkdir()
    record = ["-m", "rl_zoo3.record_video", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "-n", "10"]
    without = run_python(record, tmp_path)
    assert without.returncode == 2 and "argument --algo: invalid choice: 'cartdqn'" in without.stderr

    rl_zoo_hook.install(site_dir)
    train = ["-m", "rl_zoo3.train", "--algo", "cartdqn", "--env", "CartPole-v1", "-n", "100", "--eval-freq", "-1",
             "--verbose", "0", "--num-threads", "1", "-params", "learning_starts:32", "batch_size:16"]  # fmt: skip
    trained = run_python(train, tmp_path, site_dir)
    assert trained.returncode == 0, trained.stdout + trained.stderr
    args = yaml.load((tmp_path / "logs/cartdqn/CartPole-v1_1/CartPole-v1/args.yml").read_text(), Loader=yaml.UnsafeLoader)
    assert args["conf_file"] == str(default_config_path())  # the packaged file, as with `sb3_cartdqn.zoo train`

    recorded = run_python(record, tmp_path, site_dir)
    assert recorded.returncode == 0, recorded.stdout + recorded.stderr
    clip = tmp_path / "logs/cartdqn/CartPole-v1_1/videos/final-model-cartdqn-CartPole-v1-step-0-to-step-10.mp4"
    assert clip.stat().st_size > 0
