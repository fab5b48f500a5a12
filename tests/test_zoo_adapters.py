"""
The package's stand-ins for RL Zoo functions (``sb3_cartdqn.zoo.adapters``): each is set only within its block, and
each fails here when the installed RL Zoo (or huggingface_sb3) changes the code it was written against.
"""

import ast
import hashlib
import importlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import rl_zoo3
import rl_zoo3.enjoy
import rl_zoo3.exp_manager
import rl_zoo3.utils

from sb3_cartdqn.zoo import adapters
from sb3_cartdqn.zoo.multi_seed import MultiSeedExperimentManager

#: For each adapter, its watched code as written when the adapter was checked against it:
#: ``{watched: (sha256 of the source, first 16 hex digits; signature of a function, None for a module)}``
RECORDED = {
    "get_saved_hyperparams": {
        "rl_zoo3.utils:get_saved_hyperparams": (
            "792e52dc42fd66ce",
            "(stats_path: str, norm_reward: bool=False, test_mode: bool=False) -> tuple[dict[str, Any], str | None]",
        ),
        "rl_zoo3.enjoy": ("a60a6d19c02f2ff5", None),
        "rl_zoo3.record_video": ("a857fed44292f41f", None),
        "rl_zoo3.push_to_hub": ("cea689b2d1e09db8", None),
    },
    "ExperimentManager": {
        "rl_zoo3.exp_manager:ExperimentManager.__init__": (
            "a062c1ad4dd7fbae",
            "(self, args: argparse.Namespace, algo: str, env_id: str, log_folder: str, tensorboard_log: str='', "
            "n_timesteps: int=0, eval_freq: int=10000, n_eval_episodes: int=5, save_freq: int=-1, "
            "hyperparams: dict[str, Any] | None=None, env_kwargs: dict[str, Any] | None=None, "
            "eval_env_kwargs: dict[str, Any] | None=None, trained_agent: str='', optimize_hyperparameters: bool=False, "
            "storage: str | None=None, study_name: str | None=None, n_trials: int=1, max_total_trials: int | None=None, "
            "n_jobs: int=1, sampler: str='tpe', pruner: str='median', optimization_log_path: str | None=None, "
            "n_startup_trials: int=0, n_evaluations: int=1, truncate_last_trajectory: bool=False, uuid_str: str='', "
            "seed: int=0, log_interval: int=0, save_replay_buffer: bool=False, verbose: int=1, vec_env_type: str='dummy', "
            "n_eval_envs: int=1, no_optim_plots: bool=False, device: th.device | str='auto', config: str | None=None, "
            "show_progress: bool=False, trial_id: int | None=None)",
        ),
        "rl_zoo3.train": ("9cc39755f7e3e942", None),
    },
    "generate_metadata": {
        "huggingface_sb3.push_to_hub:_generate_metadata": (
            "afa75588d467d616",
            "(model_name: str, env_id: str, mean_reward: float, std_reward: float) -> ModelCardData",
        ),
        "rl_zoo3.push_to_hub": ("cea689b2d1e09db8", None),
    },
    "load_from_hub": {
        "huggingface_sb3.load_from_hub:load_from_hub": ("152f6e3fff2b16ae", "(repo_id: str, filename: str) -> str"),
        "rl_zoo3.load_from_hub": ("e7e0c90d5218f2ab", None),
    },
    "subprocess.call": {"rl_zoo3.record_training": ("be7bda47e72857a8", None)},
    "pyplot.show": {"rl_zoo3.plots.plot_train": ("ef10751aef0eebc9", None)},
}


def watched_code(watched: str) -> tuple[str, str | None]:
    """
    The source of ``"module"`` or ``"module:qualname"`` as installed, read from its file (nothing is imported: RL Zoo's
    push_to_hub cannot be imported without its adapter), and a function's signature as written.
    """
    module, _, qualname = watched.partition(":")
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, f"{module} is not installed"
    source = Path(spec.origin).read_text()
    if not qualname:
        return source, None
    node: ast.AST = ast.parse(source)
    for name in qualname.split("."):
        definitions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
        found = [child for child in node.body if isinstance(child, definitions) and child.name == name]  # type: ignore[attr-defined]
        assert found, f"{watched} no longer exists"
        node = found[0]
    signature = None
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        signature = f"({ast.unparse(node.args)})" + (f" -> {ast.unparse(node.returns)}" if node.returns else "")
    return ast.get_source_segment(source, node) or "", signature


def test_every_adapter_is_recorded():
    assert {adapter.name for adapter in adapters.ADAPTERS} == set(RECORDED)
    for adapter in adapters.ADAPTERS:
        assert set(adapter.watched) == set(RECORDED[adapter.name]), adapter.name


@pytest.mark.parametrize("adapter", adapters.ADAPTERS, ids=lambda adapter: adapter.name)
def test_the_code_each_adapter_stands_in_for_is_unchanged(adapter):
    for watched, (digest, signature) in RECORDED[adapter.name].items():
        source, found_signature = watched_code(watched)
        recheck = (
            f"re-check the adapter {adapter.name!r} in sb3_cartdqn/zoo/adapters.py ({adapter.reason}) against the "
            f"installed code (rl-zoo3 {rl_zoo3.__version__}): is the stand-in still needed, still set where the scripts "
            f"read it ({', '.join(adapter.places)}), still right? Then record the new values in RECORDED"
        )
        assert found_signature == signature, f"{watched}'s signature changed to {found_signature}: {recheck}"
        assert hashlib.sha256(source.encode()).hexdigest()[:16] == digest, f"{watched} changed: {recheck}"


@pytest.mark.parametrize("adapter", adapters.ADAPTERS, ids=lambda adapter: adapter.name)
def test_installed_sets_every_place_for_the_block_only(adapter):
    modules = [(importlib.import_module(place.split(":")[0]), place.split(":")[1]) for place in adapter.places]
    absent = object()
    before = [getattr(module, attribute, absent) for module, attribute in modules]
    stand_in = object()
    with adapter.installed(stand_in):
        assert all(getattr(module, attribute) is stand_in for module, attribute in modules)
    assert [getattr(module, attribute, absent) for module, attribute in modules] == before


def test_get_saved_hyperparams_checks_the_folder_first(tmp_path):
    original = rl_zoo3.utils.get_saved_hyperparams
    checked = []
    with adapters.get_saved_hyperparams(checked.append):
        for module in (rl_zoo3, rl_zoo3.utils, rl_zoo3.enjoy):
            assert module.get_saved_hyperparams(str(tmp_path)) == original(str(tmp_path))
    assert checked == [str(tmp_path)] * 3
    assert rl_zoo3.get_saved_hyperparams is rl_zoo3.enjoy.get_saved_hyperparams is original


def test_experiment_manager_takes_subclasses_only():
    configured = MultiSeedExperimentManager.configured((1, 2))
    with adapters.experiment_manager(configured):
        assert rl_zoo3.exp_manager.ExperimentManager is configured
    assert rl_zoo3.exp_manager.ExperimentManager is not configured
    with pytest.raises(TypeError, match="not a subclass"), adapters.experiment_manager(dict):
        pass


def test_generate_metadata_is_the_old_function_where_only_the_new_name_exists():
    hf_push = importlib.import_module("huggingface_sb3.push_to_hub")
    had_it = hasattr(hf_push, "generate_metadata")
    with adapters.generate_metadata():
        metadata = hf_push.generate_metadata("CartDQN", "CartPole-v1", 500.0, 0.0)
    assert isinstance(metadata, dict) and "model-index" in metadata
    assert hasattr(hf_push, "generate_metadata") == had_it


def test_pyplot_show_does_nothing_in_the_block():
    show = plt.show
    with adapters.pyplot_show():
        assert plt.show() is None and plt.show is not show
    assert plt.show is show


def test_subprocess_call_leaves_other_calls_alone():
    with adapters.subprocess_call():
        assert subprocess.call([sys.executable, "-c", "raise SystemExit(3)"]) == 3
