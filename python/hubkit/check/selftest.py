"""An exercise author's self-test: `hubkit check --self-test [EXERCISE]`.

For each exercise: the shipped solution passes (a CUDA exercise without a GPU
compiles and reports "not run"), the starter says "not implemented yet", and
every known-wrong version and every shipped cheat is rejected with its expected
message (a forged-clock cheat passes, timed on the grader's clock at no less
than its `timed_min_s`). Runs in the fast mode, like the test suite.

Example:
    >>> row = Row("x", "solution", True, "pass")
    >>> row.ok
    True
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hubkit.check.exercises import NOT_IMPLEMENTED, Exercise, Wrong, all_exercises, get_exercise


@dataclass
class Row:
    """One expectation: `impl` of `exercise` did (ok) or did not do what it must."""

    exercise: str
    impl: str
    ok: bool
    detail: str


def _run(ex: Exercise, files: dict, impl: str, timing: bool = False):
    from hubkit.check.runner import run_check

    return run_check(ex, files, impl=impl, fast=True, timing=timing)


def _solution(ex: Exercise) -> Row:
    r = _run(ex, ex.solution_files(), "solution")
    ok = r.status == "pass" or (ex.kind == "cuda" and r.status == "not_run")
    return Row(ex.id, "solution", ok, f"{r.status}: {r.headline}" if not ok else r.status)


def _starter(ex: Exercise, folder: Path) -> Row:
    files = {}
    for name in ex.files:
        files[name] = folder / name
        files[name].write_text(ex.starter_text(name))
    r = _run(ex, files, "starter")
    ok = r.status == "not_implemented" and NOT_IMPLEMENTED in r.message
    return Row(ex.id, "starter", ok, r.status if ok else f"{r.status}: {r.headline}")


def _known(ex: Exercise, w: Wrong, kind: str, folder: Path) -> Row:
    files = dict(ex.solution_files())
    files[w.replaces] = w.source(ex, folder)
    impl = f"{kind}:{w.name}"
    if w.timed_min_s is not None:
        r = _run(ex, files, impl, timing=True)
        fastest = min((r.timings or {}).get("rounds", {}).get("learner", [0.0]))
        ok = r.status == "pass" and fastest >= w.timed_min_s
        return Row(ex.id, impl, ok, f"timed at {fastest * 1e3:.1f} ms a call on the grader's "
                   f"clock (>= {w.timed_min_s * 1e3:.0f} ms)" if ok else
                   f"{r.status}, fastest {fastest * 1e3:.1f} ms: {r.headline}")
    r = _run(ex, files, impl)
    ok = r.status != "pass" and w.expect in r.message
    detail = f"rejected: {r.headline}" if ok else (
        f"expected {w.expect!r}, got [{r.status}] {r.headline}")
    return Row(ex.id, impl, ok, detail)


def rows(ex: Exercise) -> Iterator[Row]:
    """Every expectation of one exercise, checked one by one."""
    yield _solution(ex)
    if ex.kind == "cuda" and not _gpu():
        return  # without a GPU only the solution is compiled
    with tempfile.TemporaryDirectory(prefix="hubkit-selftest-") as tmp:
        yield _starter(ex, Path(tmp))
        for kind, known in (("wrong", ex.wrong), ("cheat", ex.cheats)):
            for w in known:
                yield _known(ex, w, kind, Path(tmp))


def _gpu() -> bool:
    import torch

    return torch.cuda.is_available()


def self_test(exercise_id: str | None = None,
              report: Callable[[Row], None] | None = None) -> list[Row]:
    """Run the self-test of one exercise (or all); `report(row)` is called as rows finish."""
    exercises = [get_exercise(exercise_id)] if exercise_id else all_exercises()
    out = []
    for ex in exercises:
        if ex.missing_packages():
            continue
        for row in rows(ex):
            out.append(row)
            if report is not None:
                report(row)
    return out
