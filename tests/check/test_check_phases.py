"""Correctness and timing have their own budgets, and a verdict names the phase that ran out.

The seven-loop conv2d of exercises/conv2d_numpy/README.md (step 3) is correct but far
too slow to time: it passes, and says so.
"""

from __future__ import annotations

from pathlib import Path

from test_check_runner import check, learner, make_exercise

from hubkit.check import get_exercise, timing
from hubkit.check.runner import run_check

# The README's step-3 loop version, shared with tests/test_newcomer.py.
SEVEN_LOOPS = (Path(__file__).parents[1] / "data" / "conv2d_seven_loops.py").read_text()


def test_seven_loop_conv2d_passes_on_correctness_and_is_too_slow_to_time(tmp_path: Path,
                                                                         monkeypatch):
    monkeypatch.setattr(timing, "PHASE_S", 4.0)  # the bench case takes far longer than this
    path = tmp_path / "conv2d.py"
    path.write_text(SEVEN_LOOPS)
    ex = get_exercise("conv2d_numpy")
    r = run_check(ex, {"conv2d.py": path}, fast=True, timing=True)
    assert r.status == "pass", f"{r.status}: {r.message}"
    assert r.message.startswith("too slow to time: one call on the timing case")
    assert "took more than 4.0 s" in r.message and "timing phase" in r.message
    assert "Correctness passed" in r.message and "--no-time" in r.message
    assert not r.timings


def test_a_timeout_in_correctness_names_its_phase(tmp_path: Path):
    ex = make_exercise(tmp_path / "exercises")
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    while True:\n        pass\n"),
              timeout=3)
    assert r.status == "timeout" and "in the correctness phase after 3 s" in r.message
