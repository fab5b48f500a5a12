"""The tutorial's ``plot_durations`` as an SB3 callback."""

import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from stable_baselines3.common.callbacks import BaseCallback


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """
    Means of every ``window`` consecutive values (empty if there are fewer than ``window`` values).

    :param values: the series
    :param window: the window length
    :return: ``len(values) - window + 1`` means
    """
    series = np.asarray(values, dtype=np.float64)
    if len(series) < window:
        return np.empty(0)
    return np.lib.stride_tricks.sliding_window_view(series, window).mean(axis=1)


def plot_durations(durations: Sequence[float], window: int = 100, title: str = "Result") -> Figure:
    """
    The tutorial's plot: each episode's duration and the mean of the last ``window`` episodes
    (drawn from episode ``window`` on; the tutorial pads the first ``window - 1`` with zeros).

    :param durations: episode lengths, in order
    :param window: moving-average window (tutorial: 100)
    :param title: figure title
    :return: the matplotlib figure (no pyplot state, so it works headless and in threads)
    """
    fig = Figure(figsize=(8, 4.5), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel("Episode")
    ax.set_ylabel("Duration")
    episodes = np.arange(1, len(durations) + 1)
    ax.plot(episodes, durations, label="duration", linewidth=0.8)
    means = moving_average(durations, window)
    if len(means):
        ax.plot(episodes[window - 1 :], means, label=f"{window}-episode average", linewidth=2)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_seed_durations(durations: Mapping[int, Sequence[float]], window: int = 100, title: str = "Result") -> Figure:
    """
    The tutorial's plot for several seeds: each seed's episode durations (faint) and their ``window``-episode moving
    average, one colour per seed.

    :param durations: seed -> its episode lengths, in order
    :param window: moving-average window (tutorial: 100)
    :param title: figure title
    :return: the matplotlib figure
    """
    fig = Figure(figsize=(8, 4.5), dpi=100)
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel("Episode")
    ax.set_ylabel("Duration")
    for seed, lengths in durations.items():
        episodes = np.arange(1, len(lengths) + 1)
        (line,) = ax.plot(episodes, lengths, linewidth=0.5, alpha=0.3)
        means = moving_average(lengths, window)
        if len(means):
            ax.plot(episodes[window - 1 :], means, color=line.get_color(), linewidth=1.5, label=f"seed {seed}")
    if any(len(lengths) >= window for lengths in durations.values()):
        ax.legend(loc="upper left", fontsize="small", ncol=2, title=f"{window}-episode average")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython  # type: ignore[attr-defined]
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class PlotDurationsCallback(BaseCallback):
    """
    Record the length of every finished episode (``episode_durations``) and plot it with its moving average,
    as the tutorial's ``plot_durations`` does: saved as a PNG at the end of training, and redrawn live
    in a Jupyter notebook every ``live_every`` episodes.

    :param save_path: where to save the PNG at the end of training (``None``: don't save)
    :param window: moving-average window in episodes (tutorial: 100)
    :param live: redraw in the notebook while training; ``None`` detects a running Jupyter kernel
    :param live_every: redraw every ``live_every`` finished episodes (tutorial: every episode)
    :param verbose: Verbosity level: 0 for no output, 1 for a line when the plot is saved
    """

    def __init__(
        self,
        save_path: str | None = "durations.png",
        window: int = 100,
        live: bool | None = None,
        live_every: int = 10,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        if window < 1:
            raise ValueError(f"PlotDurationsCallback: invalid window={window!r}: the moving-average window must be >= 1.")
        self.save_path = save_path
        self.window = window
        self.live = _in_notebook() if live is None else live
        self.live_every = max(1, live_every)
        self.episode_durations: list[int] = []
        self._running_lengths = np.zeros(0, dtype=np.int64)

    def _on_training_start(self) -> None:
        self._running_lengths = np.zeros(self.training_env.num_envs, dtype=np.int64)

    def _on_step(self) -> bool:
        self._running_lengths += 1
        dones = self.locals["dones"]
        if dones.any():
            infos = self.locals["infos"]
            for idx in np.flatnonzero(dones):
                # Prefer the Monitor wrapper's count: it also covers episodes begun before this callback
                episode = infos[idx].get("episode")
                self.episode_durations.append(int(episode["l"]) if episode else int(self._running_lengths[idx]))
                self._running_lengths[idx] = 0
                if self.live and len(self.episode_durations) % self.live_every == 0:
                    self._show("Training...")
        return True

    def _on_training_end(self) -> None:
        if self.live:
            self._show("Result")
        if self.save_path is not None:
            self.save(self.save_path)

    def figure(self, title: str = "Result") -> Figure:
        """
        :param title: figure title
        :return: the plot of the durations recorded so far
        """
        return plot_durations(self.episode_durations, self.window, title)

    def save(self, path: str) -> None:
        """
        Save the plot as an image (format from the file extension).

        :param path: file path, e.g. ``durations.png``
        """
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self.figure().savefig(path)
        if self.verbose >= 1:
            print(f"Saved episode durations plot to {path}")

    def _show(self, title: str) -> None:
        from IPython import display

        display.clear_output(wait=True)
        display.display(self.figure(title))
