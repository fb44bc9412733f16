"""Every exercise: the shipped solution passes, the starter is "not implemented yet",
and every known-wrong implementation and every shipped cheat is rejected with its
specific message (a forged-clock cheat passes, timed on the grader's clock).

Parametrized over exercises/*/exercise.toml, so a new exercise is covered by
adding its folder. Runs in the checker's fast mode (small cases, no timing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hubkit.check import NOT_IMPLEMENTED, all_exercises, get_exercise
from hubkit.check.build import nvcc
from hubkit.check.runner import run_check

EXERCISES = all_exercises()


def _gpu_only(ex) -> bool:
    return ex.kind == "cuda" and not torch.cuda.is_available()


def _skip_without_nvcc(ex) -> None:
    # nvcc is optional (README): without it a cuda exercise cannot even compile.
    if ex.kind == "cuda" and nvcc() is None:
        pytest.skip("cuda exercise: needs nvcc (optional; not on PATH and CUDACXX unset)")


def _params():
    out = []
    for ex in EXERCISES:
        out.append(pytest.param(ex.id, "solution", id=f"{ex.id}-solution"))
        out.append(pytest.param(ex.id, "starter", id=f"{ex.id}-starter"))
        for w in ex.wrong:
            out.append(pytest.param(ex.id, f"wrong:{w.file}", id=f"{ex.id}-wrong-{w.name}"))
        for c in ex.cheats:
            out.append(pytest.param(ex.id, f"cheat:{c.file}", id=f"{ex.id}-cheat-{c.name}"))
    return out


def _starter_files(ex, folder: Path) -> dict[str, Path]:
    files = {}
    for name in ex.files:
        path = folder / name
        path.write_text(ex.starter_text(name))
        files[name] = path
    return files


def test_there_is_at_least_one_exercise():
    assert any(ex.id == "bias_gelu_cpp" for ex in EXERCISES)


@pytest.mark.parametrize(("exercise_id", "impl"), _params())
def test_exercise_verdict(exercise_id: str, impl: str, tmp_path: Path):
    ex = get_exercise(exercise_id)
    _skip_without_nvcc(ex)
    if impl == "solution":
        result = run_check(ex, ex.solution_files(), impl=impl, fast=True, timing=False)
        if _gpu_only(ex):
            assert result.status == "not_run", result.message
            assert "compiled; not run: no CUDA device" in result.message
        else:
            assert result.status == "pass", f"{result.status}: {result.message}\n{result.output}"
        return
    if _gpu_only(ex):
        pytest.skip("cuda exercise: only the solution is compiled without a GPU")
    if impl == "starter":
        result = run_check(ex, _starter_files(ex, tmp_path), impl=impl, fast=True, timing=False)
        assert result.status == "not_implemented", f"{result.status}: {result.message}"
        assert NOT_IMPLEMENTED in result.message
        return
    wrong = next(w for w in (*ex.wrong, *ex.cheats) if impl.endswith(f":{w.file}"))
    files = dict(ex.solution_files())
    files[wrong.replaces] = wrong.source(ex, tmp_path)
    if wrong.timed_min_s is not None:  # a forged clock: correct, and timed from outside
        result = run_check(ex, files, impl=impl, fast=True, timing=True)
        assert result.status == "pass", f"{result.status}: {result.message}"
        assert min(result.timings["rounds"]["learner"]) >= wrong.timed_min_s
        return
    result = run_check(ex, files, impl=impl, fast=True, timing=False)
    assert result.status != "pass", f"{wrong.file} passed the checker"
    assert wrong.expect in result.message, (
        f"{wrong.file}: expected {wrong.expect!r} in the message, got [{result.status}] "
        f"{result.message}")


@pytest.mark.parametrize("exercise_id", [ex.id for ex in EXERCISES])
def test_starter_keeps_the_solution_entry_point(exercise_id: str):
    ex = get_exercise(exercise_id)
    starters = "".join(ex.starter_text(name) for name in ex.files)
    assert ex.entry in starters
    assert "BEGIN SOLUTION" not in starters and "END SOLUTION" not in starters


@pytest.mark.parametrize("exercise_id", [ex.id for ex in EXERCISES])
def test_exercise_folder_is_complete(exercise_id: str):
    ex = get_exercise(exercise_id)
    assert (ex.root / "README.md").is_file()
    assert (ex.root / "spec.py").is_file()
    assert ex.hints, "every exercise has hints"
    assert ex.wrong, "every exercise ships known-wrong implementations"
    for name in ex.support:
        assert ex.support_path(name).is_file(), name
    for w in ex.wrong:
        assert (ex.root / w.file).is_file(), w.file
