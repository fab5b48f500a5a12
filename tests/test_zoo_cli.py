"""``python -m sb3_cartdqn.zoo``: train writes a model and its config, enjoy runs it, optimisation and plots work."""

import pickle
import re

import numpy as np
import optuna
import pytest
import yaml
from matplotlib import pyplot as plt
from zoo_helpers import QUICK, QUICK_OPTIMIZE, finish_zoo, run_zoo, start_zoo

from sb3_cartdqn import CartDQN
from sb3_cartdqn.zoo import default_config_path
from sb3_cartdqn.zoo.cli import main, with_default_config

# Small CartDQN runs: 600 steps, first gradient step after 64
SMALL = ["-params", "learning_starts:64", "batch_size:32", "buffer_size:1000"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """
    A folder where the zoo trained two short cartdqn runs and two short dqn runs on CartPole-v1, with evaluations
    (RL Zoo's plot_from_file needs two runs per algorithm).
    """
    folder = tmp_path_factory.mktemp("zoo")
    common = ["--env", "CartPole-v1", "-n", "600", "--eval-freq", "200", "--eval-episodes", "2", *QUICK]
    # Each run gets its own log folder while they run side by side (RL Zoo numbers runs when it starts them)
    runs = [
        start_zoo(["train", "--algo", algo, *common, "--seed", str(seed), "-f", f"logs_{seed}", *extra], folder)
        for seed in (1, 2)
        for algo, extra in (("cartdqn", SMALL), ("dqn", ["-params", "learning_starts:100"]))
    ]
    for run in runs:
        finish_zoo(run)
    for algo in ("cartdqn", "dqn"):
        for seed in (1, 2):
            (folder / "logs" / algo).mkdir(parents=True, exist_ok=True)
            (folder / f"logs_{seed}" / algo / "CartPole-v1_1").rename(folder / "logs" / algo / f"CartPole-v1_{seed}")
    return folder


def test_unknown_script_names_the_choices(capsys):
    scripts = "train, enjoy, record_video, record_training, push_to_hub, load_from_hub, plot_train, plot_from_file, all_plots"
    with pytest.raises(SystemExit, match=rf"unknown script 'fit'\. Choose one of: {scripts}\."):
        main(["fit", "--algo", "cartdqn"])
    main([])  # no script: the list of scripts, not an error (issue #23)
    assert "scripts:" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "added"),
    [
        (["--algo", "cartdqn", "--env", "CartPole-v1"], True),
        (["--algo=cartdqn", "-n", "10"], True),
        (["--algo", "cartdqn", "-conf", "mine.yml"], False),
        (["--algo", "cartdqn", "--conf-file=mine.yml"], False),
        (["--algo", "cartdqn", "--conf", "mine.yml"], False),  # argparse's prefix matching, as RL Zoo's parser does
        (["--algo", "dqn"], False),  # RL Zoo's own file
        ([], False),  # RL Zoo's default algo is ppo
    ],
)
def test_default_config_only_for_cartdqn_without_conf(argv, added):
    result = with_default_config(argv)
    assert result[: len(argv)] == argv
    assert result[len(argv) :] == (["--conf-file", str(default_config_path())] if added else [])


def test_train_writes_model_and_config(trained):
    run = trained / "logs" / "cartdqn" / "CartPole-v1_1"
    assert (run / "CartPole-v1.zip").is_file()
    assert (run / "evaluations.npz").is_file() and (run / "0.monitor.csv").is_file()
    config = dict(yaml.load((run / "CartPole-v1" / "config.yml").read_text(), Loader=yaml.UnsafeLoader))
    expected = yaml.safe_load(default_config_path().read_text())["CartPole-v1"]
    # The packaged file's entry, with the -params overrides
    assert config == {**expected, "learning_starts": 64, "batch_size": 32, "buffer_size": 1000}
    args = yaml.load((run / "CartPole-v1" / "args.yml").read_text(), Loader=yaml.UnsafeLoader)
    assert args["algo"] == "cartdqn" and args["conf_file"] == str(default_config_path())
    model = CartDQN.load(run / "CartPole-v1.zip", device="cpu")
    assert model.num_timesteps == 600
    assert (model.exploration_decay, model.tau, model.learning_starts) == (1000, 0.005, 64)


def test_enjoy_loads_with_one_slot_buffer_and_runs(trained, monkeypatch, capsys):
    loaded = []
    original_load = CartDQN.load.__func__

    def spy_load(cls, path, **kwargs):
        model = original_load(cls, path, **kwargs)
        loaded.append(model)
        return model

    monkeypatch.setattr(CartDQN, "load", classmethod(spy_load))
    monkeypatch.chdir(trained)
    main(["enjoy", "--algo", "cartdqn", "--env", "CartPole-v1", "-f", "logs", "--no-render", "-n", "1000", "--device", "cpu"])
    output = capsys.readouterr().out
    assert "Loading logs/cartdqn/CartPole-v1_2/CartPole-v1.zip" in output  # the latest run
    # 1000 steps hold at least two CartPole episodes (500 steps at most each)
    assert re.search(r"\d+ Episodes\nMean reward: [\d.]+ \+/- [\d.]+", output), output
    assert len(loaded) == 1 and loaded[0].replay_buffer.buffer_size == 1


def test_plot_train_draws_cartdqn_beside_dqn(trained, monkeypatch):
    monkeypatch.chdir(trained)
    plt.close("all")
    main(["plot_train", "-a", "cartdqn", "dqn", "-e", "CartPole-v1", "-f", "logs", "-w", "2", "-o", "train.png"])
    assert (trained / "train.png").stat().st_size > 0
    labels = [line.get_label() for line in plt.gca().get_lines()]
    assert sorted(labels) == ["cartdqn CartPole-v1_1", "cartdqn CartPole-v1_2", "dqn CartPole-v1_1", "dqn CartPole-v1_2"]
    plt.close("all")


def test_all_plots_and_plot_from_file_compare_cartdqn_and_dqn(trained, monkeypatch):
    monkeypatch.chdir(trained)
    main(["all_plots", "-a", "cartdqn", "dqn", "-e", "CartPole-v1", "-f", "logs", "--no-display", "-o", "results"])
    with open(trained / "results.pkl", "rb") as file:
        results = pickle.load(file)
    assert {"CARTDQN-logs", "DQN-logs"} <= set(results["CartPole-v1"])
    for key in ("CARTDQN-logs", "DQN-logs"):
        np.testing.assert_array_equal(results["CartPole-v1"][key]["timesteps"], [200, 400, 600])
        assert results["CartPole-v1"][key]["last_evals"].shape == (2,)  # both seeds
    # all_plots -o writes a pickle, which plot_from_file reads only with the opt-in (tests/test_safe_loading_zoo.py);
    # --trust-code sets TRUST_REMOTE_CODE for the process: restored after the test
    monkeypatch.setenv("TRUST_REMOTE_CODE", "False")
    main(["plot_from_file", "-i", "results.pkl", "-o", "evals.png", "--format", "png", "--no-million", "--trust-code"])
    assert (trained / "evals.png").stat().st_size > 0
    plt.close("all")


def test_optimize_then_reload_a_trial(tmp_path):
    storage = "study.log"  # RL Zoo's journal file: no server needed
    common = ["--algo", "cartdqn", "--env", "CartPole-v1", *QUICK, "--storage", storage, "--study-name", "s"]
    output = run_zoo(
        [
            "train",
            *common,
            "-optimize",
            *QUICK_OPTIMIZE,
        ],
        tmp_path,
    )
    assert "Number of finished trials:  2" in output
    study = optuna.load_study(
        storage=optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(tmp_path / storage))),
        study_name="s",
    )
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.COMPLETE] * 2
    assert all(t.value is not None and t.value > 0 for t in study.trials)
    assert list((tmp_path / "logs" / "cartdqn").glob("report_CartPole-v1_2-trials-300-random-none_*.csv"))

    # Reload trial 1 (RL Zoo ignores --trial-id 0) and train briefly with its hyperparameters
    run_zoo(["train", *common, "--trial-id", "1", "-n", "200", "--eval-freq", "-1", "-f", "reloaded"], tmp_path)
    config = dict(
        yaml.load(
            (tmp_path / "reloaded" / "cartdqn" / "CartPole-v1_1" / "CartPole-v1" / "config.yml").read_text(),
            Loader=yaml.UnsafeLoader,
        )
    )
    params = study.trials[1].params
    assert config["tau"] == params["tau"] and config["buffer_size"] == params["buffer_size"]
    assert config["gamma"] == 1 - params["one_minus_gamma"]
    assert config["policy_kwargs"] == {"net_arch": [params["net_width"]] * params["net_depth"], "dueling": params["dueling"]}
    model = CartDQN.load(tmp_path / "reloaded" / "cartdqn" / "CartPole-v1_1" / "CartPole-v1.zip", device="cpu")
    assert model.exploration_decay == params["exploration_decay"]
    assert model.batch_size == 2 ** params["batch_size_pow"]
    assert (model.double_q, model.n_steps, model.policy.dueling) == (params["double_q"], params["n_steps"], params["dueling"])
    assert model.train_freq.frequency == params["train_freq"]
