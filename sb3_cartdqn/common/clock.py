"""
The clock of every "seconds to solve" this package reports: seconds spent training, evaluations excluded (the
comparison's wall-clock and CPU columns, the fast study's CPU-seconds objective).
"""

import contextlib
import time
from collections.abc import Callable, Iterator


class TrainingClock:
    """
    Seconds spent training: wall-clock (``time.perf_counter``) and CPU of this process (``time.process_time``, every
    thread's) since :meth:`start`, less the seconds spent inside :meth:`excluded` blocks (the evaluations). The
    excluded blocks and the rest partition the time, so with one thread the CPU seconds are at most the wall seconds
    of the same stretch; on a loaded machine the wall seconds grow and the CPU seconds do not.

    :param cpu_clock: the CPU clock (``time.process_time``; tests may pass another)
    """

    def __init__(self, cpu_clock: Callable[[], float] = time.process_time) -> None:
        self._cpu_clock = cpu_clock
        self.start()

    def start(self) -> None:
        """Start (or restart) counting from now, with nothing excluded."""
        self._wall_start, self._cpu_start = time.perf_counter(), self._cpu_clock()
        self.excluded_wall = 0.0
        self.excluded_cpu = 0.0

    @contextlib.contextmanager
    def excluded(self) -> Iterator[None]:
        """A block whose wall and CPU seconds do not count as training (an evaluation)."""
        wall, cpu = time.perf_counter(), self._cpu_clock()
        try:
            yield
        finally:
            self.excluded_cpu += self._cpu_clock() - cpu
            self.excluded_wall += time.perf_counter() - wall

    def wall_seconds(self) -> float:
        """:return: wall-clock seconds since :meth:`start`, excluded blocks left out"""
        return time.perf_counter() - self._wall_start - self.excluded_wall

    def cpu_seconds(self) -> float:
        """:return: this process's CPU seconds since :meth:`start`, excluded blocks left out"""
        return self._cpu_clock() - self._cpu_start - self.excluded_cpu
