"""
``push_to_hub`` and ``load_from_hub`` through ``python -m sb3_cartdqn.zoo`` up to the network: the Hub's API calls and
the download function are replaced by stand-ins that use a local folder; everything before them is RL Zoo's own.
"""

import shutil
from pathlib import Path

import huggingface_hub.constants
import huggingface_sb3
import pytest
import yaml
from huggingface_hub import HfApi
from huggingface_hub.errors import RemoteEntryNotFoundError
from zoo_helpers import QUICK, run_zoo

try:  # the Hub client's HTTP library: httpx2 for huggingface_hub 2.x, httpx before
    import httpx2 as http_client
except ImportError:
    import httpx as http_client

from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo.cli import main
from sb3_cartdqn.zoo.hub import check_downloaded_run

REPO_ID = "someone/cartdqn-CartPole-v1"
PUSH = ["push_to_hub", "--algo", "cartdqn", "--env", "CartPole-v1", "-orga", "someone", "-n", "30"]


def fake_hub(monkeypatch, remote: Path) -> list[tuple]:
    """Replace the Hub API calls of RL Zoo's push_to_hub; ``remote`` plays the repository. Return the calls made."""
    calls = []

    def create_repo(self, token=None, repo_id=None, private=None, exist_ok=False):
        calls.append(("create_repo", repo_id))
        return f"https://huggingface.co/{repo_id}"

    def snapshot_download(self, repo_id, local_dir):
        calls.append(("snapshot_download", repo_id))
        Path(local_dir).mkdir(parents=True, exist_ok=True)
        return str(local_dir)

    def upload_folder(self, repo_id, folder_path, commit_message):
        calls.append(("upload_folder", repo_id, commit_message))
        shutil.copytree(folder_path, remote, dirs_exist_ok=True)

    for name, stand_in in (("create_repo", create_repo), ("snapshot_download", snapshot_download),
                           ("upload_folder", upload_folder)):  # fmt: skip
        monkeypatch.setattr(HfApi, name, stand_in)
    return calls


def fake_download(monkeypatch, remote: Path) -> list[str]:
    """Replace huggingface_sb3's download with one from ``remote``; a missing file raises as the Hub client does."""
    requested = []

    def load_from_hub(repo_id, filename):
        assert repo_id == REPO_ID
        requested.append(filename)
        if not (remote / filename).is_file():
            url = f"https://huggingface.co/{repo_id}/resolve/main/{filename}"
            response = http_client.Response(404, request=http_client.Request("GET", url))
            raise RemoteEntryNotFoundError(f"404: {filename} not in {repo_id}", response=response)
        return str(remote / filename)

    monkeypatch.setattr(huggingface_sb3, "load_from_hub", load_from_hub)
    return requested


@pytest.fixture(scope="module")
def pushed(tmp_path_factory):
    """A 200-step CartPole-v1 run (2 evaluations), pushed by RL Zoo's push_to_hub to a stand-in Hub."""
    folder = tmp_path_factory.mktemp("zoo_hub")
    run_zoo(
        ["train", "--algo", "cartdqn", "--env", "CartPole-v1", "-n", "200", "--eval-freq", "100", "--eval-episodes", "2",
         *QUICK, "-params", "learning_starts:32", "batch_size:16", "buffer_size:500"],
        folder,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.chdir(folder)
        monkeypatch.setenv("HF_TOKEN", "hf_test_token")
        calls = fake_hub(monkeypatch, folder / "remote")
        main([*PUSH, "-f", "logs"])
    return folder, calls


def test_push_to_hub_prepares_model_card_files_and_replay(pushed):
    folder, calls = pushed
    assert calls == [
        ("create_repo", REPO_ID),
        ("snapshot_download", REPO_ID),
        ("upload_folder", REPO_ID, "Initial commit"),
    ]
    local = folder / "hub" / "cartdqn-CartPole-v1"
    expected = {"cartdqn-CartPole-v1.zip", "config.yml", "args.yml", "env_kwargs.yml", "train_eval_metrics.zip",
                "results.json", "replay.mp4", "README.md"}  # fmt: skip
    assert expected <= {path.name for path in local.iterdir()}
    assert sorted(path.name for path in (folder / "remote").iterdir()) == sorted(path.name for path in local.iterdir())
    card = (local / "README.md").read_text()
    assert "# **CartDQN** Agent playing **CartPole-v1**" in card
    assert "python -m rl_zoo3.load_from_hub --algo cartdqn --env CartPole-v1 -orga someone -f logs/" in card
    metadata = yaml.safe_load(card.split("---")[1])
    assert metadata["library_name"] == "stable-baselines3"
    assert metadata["model-index"][0]["results"][0]["metrics"][0]["type"] == "mean_reward"
    assert (local / "replay.mp4").stat().st_size > 1000  # the replay step's video, made with ffmpeg
    model = CartDQN.load(local / "cartdqn-CartPole-v1.zip", device="cpu")
    assert model.num_timesteps == 200


def test_load_from_hub_saves_the_run_and_enjoy_runs_it(pushed, tmp_path, monkeypatch, capsys):
    folder, _ = pushed
    requested = fake_download(monkeypatch, folder / "remote")
    monkeypatch.chdir(tmp_path)
    main(["load_from_hub", "--algo", "cartdqn", "--env", "CartPole-v1", "-orga", "someone", "-f", "downloaded"])
    # No VecNormalize: the Hub client's "not found" for vec_normalize.pkl is skipped, as RL Zoo means it to be
    assert "vec_normalize.pkl" in requested and "No normalization file" in capsys.readouterr().out
    run = tmp_path / "downloaded" / "cartdqn" / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").read_bytes() == (folder / "remote" / "cartdqn-CartPole-v1.zip").read_bytes()
    assert (run / "evaluations.npz").is_file()
    main(["enjoy", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "downloaded", "--no-render", "-n", "50"])
    assert "Loading downloaded/cartdqn/CartPole-v1_1/CartPole-v1.zip" in capsys.readouterr().out


def test_load_from_hub_missing_model_names_the_flags(pushed, tmp_path, monkeypatch):
    fake_download(monkeypatch, tmp_path / "empty_remote")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"refused the request \(404\).*Check -orga and -name"):
        main(["load_from_hub", "--algo", "cartdqn", "--env", "CartPole-v1", "-orga", "someone", "-f", "downloaded"])


def test_push_to_hub_without_token_stops_before_work(pushed, tmp_path, monkeypatch):
    folder, _ = pushed
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_OIDC_ID_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_TOKEN_PATH", str(tmp_path / "token"))  # no stored token either
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match=r"no token is set.*hf auth login.*HF_TOKEN"):
        main([*PUSH, "-f", str(folder / "logs")])
    assert not (tmp_path / "hub").exists()


@pytest.mark.parametrize("script", ["push_to_hub", "load_from_hub"])
def test_unreachable_hub_gives_a_clear_error(pushed, tmp_path, script):
    folder, _ = pushed
    flags = ["--algo", "cartdqn", "--env", "CartPole-v1", "-orga", "someone", "-f", str(folder / "logs")]
    with pytest.MonkeyPatch.context() as monkeypatch:
        # Offline mode (HF_HUB_OFFLINE=1, read when huggingface_hub is imported): the Hub client refuses every
        # request at once, as it fails with no network, whether or not this machine has one
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
        monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
        monkeypatch.setenv("HF_TOKEN", "hf_test_token")
        monkeypatch.setenv("TRUST_REMOTE_CODE", "True")
        monkeypatch.chdir(tmp_path)
        with pytest.raises(SystemExit, match=r"Hugging Face Hub \(https://huggingface.co\) cannot be reached"):
            main([script, *flags, *(["-n", "10", "--no-render"] if script == "push_to_hub" else [])])


def test_check_downloaded_run_names_missing_files(tmp_path):
    (tmp_path / "CartPole-v1").mkdir()
    (tmp_path / "CartPole-v1" / "config.yml").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"CartPole-v1.zip.*args.yml.*--algo, --env, -orga and -name"):
        check_downloaded_run(tmp_path, "CartPole-v1")
