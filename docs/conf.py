"""Sphinx configuration of the sb3-cartdqn documentation (built warning-free: ``sphinx-build -W --keep-going -n``)."""

import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # the package from this checkout
sys.path.insert(0, os.path.abspath("_ext"))
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("MPLBACKEND", "Agg")

import sb3_cartdqn

project = "sb3-cartdqn"
author = "sb3-cartdqn developers"
copyright = "2026, sb3-cartdqn developers"
version = release = sb3_cartdqn.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.viewcode",
    "myst_parser",
    "result_tables",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
master_doc = "index"
# Result folders hold committed outputs of the benchmarks and studies: pages include them, they are not pages themselves
exclude_patterns = ["_build", "_generated/*.md", "Thumbs.db", ".DS_Store"]
exclude_patterns += ["compare", "compare-10seeds", "compare-5seeds", "study", "fast_study", "fast_study_settled", "fast_preset", "robust", "bench", "batched"]
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]

html_theme = "sphinx_rtd_theme"
html_title = f"sb3-cartdqn {release}"
html_static_path = ["_static"]
# Tables wrap and long code lines wrap (the theme cuts both off at the column edge)
html_css_files = ["custom.css"]

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "show-inheritance": True}
autoclass_content = "both"
# Methods CartDQN overrides without a docstring would show Gymnasium's or SB3's, whose cross-references do not resolve here
autodoc_inherit_docstrings = False

# No network at build time, so no intersphinx: names of other packages (and typing constructs written in docstrings)
# are not cross-referenced
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(th|torch|np|numpy|nn|gym|gymnasium|spaces|stable_baselines3|sb3_contrib|rl_zoo3|optuna|pandas|"
     r"pd|argparse|pathlib|os|io|collections|contextlib|importlib|inspect|typing|types|multiprocessing|concurrent|huggingface_hub|"
     r"huggingface_sb3|matplotlib|yaml|zipfile)\b.*"),
    (r"py:.*", r"(GymEnv|VecEnv|BaseCallback|MaybeCallback|Schedule|TrainFreq|ReplayBuffer|DictReplayBuffer|"
     r"NStepReplayBuffer|BaseAlgorithm|OffPolicyAlgorithm|BasePolicy|DQNPolicy|QNetwork|BaseFeaturesExtractor|"
     r"ExperimentManager|Logger|Tensor|ndarray|Module|Optimizer|Trial|Study|Path|PathLike|TextIO|BinaryIO|Any|"
     r"Callable|Iterable|Iterator|Sequence|Mapping|TypeVar|ParamSpec|_Arguments|Self|SelfCartDQN|SelfBatchedCartDQN|_T|T|"
     r"NamedTuple|Enum|Exception|ValueError|TypeError|RuntimeError|EvalCallback|CheckpointCallback|"
     r"ReplayBufferSamples|DataFrame|Generator|Wrapper|ObservationWrapper|Env|Space|Box|Discrete|Dict|ModuleType|ModuleSpec)$"),
    (r"py:.*", r".*\.(T|_T|Self\w*)$"),
]
