"""Every command answers --help offline with how to call it, its flags' defaults and an example (issue #23)."""

import contextlib
import io
import pathlib
import runpy
import sys

import pytest

from sb3_cartdqn.command_line import make_parser, terminal_text, unknown_choice

ROOT = pathlib.Path(__file__).resolve().parent.parent

#: module run with ``python -m`` -> what its usage line must start with
MODULES = {
    "sb3_cartdqn.main": "python -m sb3_cartdqn.main",
    "sb3_cartdqn.batched": "python -m sb3_cartdqn.batched",
    "sb3_cartdqn.compare": "python -m sb3_cartdqn.compare",
    "sb3_cartdqn.benchmarks.speed": "python -m sb3_cartdqn.benchmarks.speed",
    "sb3_cartdqn.benchmarks.batched": "python -m sb3_cartdqn.benchmarks.batched",
    "sb3_cartdqn.benchmarks.memory": "python -m sb3_cartdqn.benchmarks.memory",
    "sb3_cartdqn.benchmarks.pixel": "python -m sb3_cartdqn.benchmarks.pixel",
    "sb3_cartdqn.zoo.rl_zoo_hook": "python -m sb3_cartdqn.zoo.rl_zoo_hook",
}
#: scripts run as files
SCRIPTS = [
    "examples/pixel_views.py",
    "examples/study_report.py",
    "examples/train_pixel.py",
    "examples/zoo_seeds.py",
    "scripts/restore_study.py",
    "scripts/safe_loading_cost.py",
    "scripts/time_train_stats.py",
]


def _help(run, argv0: str) -> str:
    out = io.StringIO()
    old_argv = sys.argv
    sys.argv = [argv0, "--help"]
    try:
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
            run()
    finally:
        sys.argv = old_argv
    assert exit_info.value.code in (0, None)
    return out.getvalue()


def _check(text: str, usage: str) -> None:
    assert text.startswith(f"usage: {usage}"), text[:200]
    assert "examples:" in text and "__main__" not in text and "``" not in text


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy, for modules a test imported
@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_help(module):
    _check(_help(lambda: runpy.run_module(module, run_name="__main__", alter_sys=False), module), MODULES[module])


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_help(script):
    path = str(ROOT / script)
    _check(_help(lambda: runpy.run_path(path, run_name="__main__"), path), f"python {script}")


def test_terminal_text_drops_rst_literals():
    assert terminal_text("Run ``python -m x``::\n\n    x --y\n") == "Run python -m x:\n\n    x --y"


def test_defaults_shown_once_and_not_for_none():
    parser = make_parser("prog", "doc", ["prog --a 1"])
    parser.add_argument("--a", type=int, default=0, help="a number")
    parser.add_argument("--b", default=None, help="b (default: computed)")
    parser.add_argument("--c", action="store_true", help="a flag")
    text = parser.format_help()
    assert "a number (default: 0)" in text and text.count("default:") == 2 and "None" not in text


def test_unknown_choice_suggests():
    assert "Did you mean 'train'?" in unknown_choice("subcommand", "trian", ["train", "enjoy"])
    assert "Did you mean" not in unknown_choice("subcommand", "xyz", ["train", "enjoy"])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("script", ["train", "enjoy", "record_video", "record_training", "push_to_hub", "load_from_hub",
                                    "plot_train", "plot_from_file", "all_plots"])  # fmt: skip
def test_zoo_script_help_offline(script, monkeypatch, capsys, tmp_path):
    """Each zoo script's --help: the package's flags and examples, then RL Zoo's, with no token, network or run."""
    from sb3_cartdqn.zoo.cli import SCRIPTS, main

    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # no stored token either
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)  # no run folder
    main([script, "--help"])
    text = capsys.readouterr().out
    assert text.startswith(f"python -m sb3_cartdqn.zoo {script}: {SCRIPTS[script].summary}")
    assert "examples:" in text and "RL Zoo's flags:" in text and "usage:" in text and "Traceback" not in text
    if SCRIPTS[script].flags is not None:
        assert "flags this package adds:" in text
    if script in ("train", "enjoy", "load_from_hub", "plot_from_file", "push_to_hub", "record_video"):
        assert "--trust-code" in text
    if script == "train":
        assert all(flag in text for flag in ("--trial-seeds", "--batch-seeds", "--solved-threshold", "--last-evaluations"))
    assert "cartdqn" in text


def test_zoo_without_arguments_lists_the_scripts(capsys):
    from sb3_cartdqn.zoo.cli import SCRIPTS, main

    main([])
    text = capsys.readouterr().out
    assert all(f"  {name} " in text for name in SCRIPTS) and "got nothing" not in text


def test_zoo_unknown_script_suggests():
    from sb3_cartdqn.zoo.cli import main

    with pytest.raises(SystemExit, match="Did you mean 'train'"):
        main(["trian"])
