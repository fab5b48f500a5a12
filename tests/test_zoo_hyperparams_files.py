"""The package's hyperparameter files and their one data-only reader (presets, comparison and zoo read through it)."""

from pathlib import Path

import pytest
import yaml

from sb3_cartdqn.presets import PRESET_FILES, preset_path, read_preset
from sb3_cartdqn.zoo import default_config_path
from sb3_cartdqn.zoo.hyperparams_files import (
    HyperparamsFileError,
    hyperparams_folder,
    hyperparams_path,
    literal_dict,
    literal_values,
    read_hyperparams_file,
)

CHECKOUT_HYPERPARAMS = Path(__file__).resolve().parents[1] / "hyperparams"


def test_every_user_finds_the_files_in_the_package():
    folder = hyperparams_folder()
    assert folder.parts[-3:] == ("sb3_cartdqn", "zoo", "hyperparams")
    assert default_config_path() == hyperparams_path("cartdqn.yml")
    for name, file_name in PRESET_FILES.items():
        assert preset_path(name) == folder / file_name and preset_path(name).is_file()


@pytest.mark.skipif(not CHECKOUT_HYPERPARAMS.is_dir(), reason="not run from a checkout")
def test_the_checkouts_hyperparams_folder_holds_the_packaged_files():
    """The top-level hyperparams/ (for RL Zoo users' -conf) holds the same files, byte for byte, as the package's."""
    checkout = sorted(path.name for path in CHECKOUT_HYPERPARAMS.glob("*.yml"))
    assert checkout == sorted(path.name for path in hyperparams_folder().glob("*.yml"))
    for name in checkout:
        assert (CHECKOUT_HYPERPARAMS / name).read_bytes() == hyperparams_path(name).read_bytes(), name


@pytest.mark.parametrize("file_name", sorted(set(PRESET_FILES.values())))
def test_packaged_files_are_data_only_and_read_as_rl_zoo_reads_them(file_name):
    path = hyperparams_path(file_name)
    entries = read_hyperparams_file(path)
    assert entries == yaml.safe_load(path.read_text())  # values as written
    for entry in entries.values():
        if "policy_kwargs" in entry:
            # the dict RL Zoo's eval makes, without eval
            assert literal_values(entry, path)["policy_kwargs"] == eval(entry["policy_kwargs"], {"dict": dict})


def test_literal_dict_reads_keyword_literals_only():
    assert literal_dict(" dict(net_arch=[64, 64], dueling=True, x=None) ", "f: k") == {
        "net_arch": [64, 64],
        "dueling": True,
        "x": None,
    }
    for text in ("dict(net_arch=nn.ReLU)", "{'a': 1}", "dict(**other)", "dict([('a', 1)])", "os.system('x')", "dict("):
        with pytest.raises(HyperparamsFileError, match=r"^f: k = .*dict\(key=literal, \.\.\.\)"):
            literal_dict(text, "f: k")


@pytest.mark.parametrize(
    "text, message",
    [
        ("CartPole-v1: !!python/object/apply:os.getcwd []\n", r"tag:yaml.org,2002:python/object/apply:os.getcwd"),
        ("CartPole-v1:\n  n_timesteps: 1\n  policy_kwargs: !!python/name:os.system\n", r"python/name:os.system"),
        (
            'CartPole-v1:\n  n_timesteps: 1\n  policy_kwargs: "dict(activation_fn=nn.ReLU)"\n',
            r"policy_kwargs = 'dict\(activation_fn=nn.ReLU\)' is not of the form dict\(key=literal, \.\.\.\)",
        ),
        ('CartPole-v1:\n  n_timesteps: 1\n  replay_buffer_class: "ReplayBuffer"\n', r"replay_buffer_class .*code"),
        ("- a\n- b\n", r"mapping of env ids"),
    ],
)
def test_files_with_code_are_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "mine.yml"
    path.write_text(text)
    with pytest.raises(HyperparamsFileError, match=rf"^{path}.*{message}"):
        read_hyperparams_file(path)
    with pytest.raises(HyperparamsFileError, match=rf"^{path}.*{message}"):
        read_preset(path)
