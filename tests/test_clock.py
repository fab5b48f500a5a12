"""TrainingClock (sb3_cartdqn/common/clock.py): the one clock of every "seconds to solve" the package reports."""

from sb3_cartdqn.common.clock import TrainingClock
from sb3_cartdqn.compare import timing
from sb3_cartdqn.zoo.sustained_solve import SustainedSolveCallback


def test_cpu_seconds_leave_out_the_excluded_blocks():
    now = [10.0]
    clock = TrainingClock(cpu_clock=lambda: now[0])
    now[0] = 12.0  # two seconds of training
    with clock.excluded():
        now[0] = 15.0  # three of evaluation
    now[0] = 16.0  # one more of training
    assert clock.cpu_seconds() == 3.0 and clock.excluded_cpu == 3.0
    clock.start()
    assert clock.cpu_seconds() == 0.0 and clock.excluded_cpu == 0.0


def test_the_comparison_and_the_fast_study_share_it():
    assert timing.TrainingClock is TrainingClock
    import inspect

    source = inspect.getsource(SustainedSolveCallback)
    assert "TrainingClock(" in source and "process_time()" not in source
