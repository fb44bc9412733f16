"""hubkit's checker: grades a learner's implementation of an exercise.

An exercise is a folder `exercises/<id>/` (format: exercises/README.md) whose
`spec.py` declares either an `OpSpec` (a tensor function with one right answer:
cases, float64 reference, adapter, hubkit's shipped op) or a `CustomSpec` (its
own statistical or invariant checks). `check(...)` grades one implementation
and returns a `Result`.

The trust boundary: this process (the grader) draws the inputs, computes the
float64 reference, compares and writes the verdict; it never imports or runs
the learner's code. That code runs in a hardened process (`child`, `sandbox`)
that receives inputs and returns outputs as data (`rpc`, `wire`), under
memory, CPU-time and process limits, without network, writing only to its
scratch directory. What each measure guarantees, and what it does not (native
code), is in exercises/README.md, "The trust boundary".

Example:
    >>> from hubkit.check import get_exercise
    >>> get_exercise("bias_gelu_cpp").kind
    'cpp'
"""

import importlib

from hubkit.check.exercises import (
    NOT_IMPLEMENTED,
    Exercise,
    ExerciseError,
    all_exercises,
    exercises_root,
    get_exercise,
    make_starter,
)
from hubkit.check.result import STATUSES, Result

# subtle: the names below need torch; they load on first use so that reading
# exercises and results (the light CLI commands) never imports torch.
_LAZY = {"assert_close": "compare", "tolerance": "compare", "Case": "spec",
         "CheckContext": "spec", "CheckFailure": "spec", "CustomSpec": "spec", "OpSpec": "spec",
         "expect_close": "spec", "randn": "spec", "chi_square": "stats",
         "expect_frequencies": "stats"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"hubkit.check.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hubkit.check' has no attribute {name!r}")


__all__ = [
    "NOT_IMPLEMENTED",
    "STATUSES",
    "Case",
    "CheckContext",
    "CheckFailure",
    "CustomSpec",
    "Exercise",
    "ExerciseError",
    "OpSpec",
    "Result",
    "all_exercises",
    "assert_close",
    "check",
    "check_solution",
    "chi_square",
    "exercises_root",
    "expect_close",
    "expect_frequencies",
    "get_exercise",
    "make_starter",
    "randn",
    "tolerance",
]


def check(exercise_id: str, files: dict | None = None, **kwargs) -> Result:
    """Grade `files` ({learner file name: path}) for an exercise in an isolated process.

    Keyword arguments go to `hubkit.check.runner.run_check` (seed, fast, timing,
    timeout, impl). The child is started by multiprocessing's fork server, which
    re-imports a calling script as `__mp_main__`: guard scripts with
    `if __name__ == "__main__":` as for any multiprocessing code.
    """
    from hubkit.check.runner import run_check

    ex = get_exercise(exercise_id)
    return run_check(ex, files if files is not None else ex.solution_files(), **kwargs)


def check_solution(exercise_id: str, **kwargs) -> Result:
    """Grade hubkit's own shipped solution of an exercise."""
    return check(exercise_id, None, impl="solution", **kwargs)
