"""README's example runs as written (at tiny budgets), shows SB3's progress bar and no warning."""

import pathlib
import re
import warnings

from tqdm import TqdmExperimentalWarning

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def test_readme_example_runs_without_warnings(monkeypatch):
    code = re.search(r"## Example\n\n```python\n(.*?)```", README.read_text(), re.S).group(1)  # type: ignore[union-attr]
    assert "progress_bar=True" in code
    # the same code at tiny budgets: the tutorial's 50 000 and the preset's budget become 300 steps
    code = code.replace("learn(50_000", "learn(300").replace("learn(preset.n_timesteps", "learn(300")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SB3's "not wrapped with a Monitor" warning (or any other) fails the test
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        # SB3 ignores tqdm's "rich is experimental" warning when its callbacks module is first imported, so users never
        # see it; once another test has imported SB3, "error" above would stand in front of that filter: restate it
        warnings.filterwarnings("ignore", category=TqdmExperimentalWarning)
        exec(compile(code, str(README), "exec"), {})
