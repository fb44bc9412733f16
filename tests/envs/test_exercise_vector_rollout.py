"""Exercise vector_rollout_cpp: the starter says "not implemented", the shipped
solution passes, and each known-wrong implementation is rejected with its message."""

from __future__ import annotations

import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

pytestmark = pytest.mark.mujoco
pytest.importorskip("mujoco")
pytest.importorskip("gymnasium")
pytest.importorskip("pybind11")
if shutil.which("c++") is None:
    pytest.skip("no C++ compiler", allow_module_level=True)

from hubkit.envs.rollout_check import grade, starter_from_solution  # noqa: E402

EX = Path(__file__).resolve().parents[2] / "exercises" / "vector_rollout_cpp"
META = tomllib.loads((EX / "exercise.toml").read_text())
FILES = ["rollout.cpp", META["solution"]] + [w["file"] for w in META["wrong"]]


@pytest.fixture(scope="module")
def verdicts():
    # Correctness-only grading (unoptimized builds, no timing), two builds at a time.
    with ThreadPoolExecutor(2) as pool:
        out = pool.map(lambda f: grade(str(EX / f), timed=False), FILES)
        return dict(zip(FILES, out, strict=True))


def test_starter_is_the_solution_without_its_solution_blocks():
    solution = (EX / META["solution"]).read_text()
    assert (EX / "rollout.cpp").read_text() == starter_from_solution(solution)


def test_starter_reports_not_implemented(verdicts):
    v = verdicts["rollout.cpp"]
    assert not v["passed"] and "not implemented yet" in v["message"]


def test_shipped_solution_passes(verdicts):
    v = verdicts[META["solution"]]
    assert v["passed"], v["message"]


@pytest.mark.parametrize("wrong", META["wrong"], ids=lambda w: Path(w["file"]).stem)
def test_known_wrong_is_rejected_with_its_message(verdicts, wrong):
    v = verdicts[wrong["file"]]
    assert not v["passed"] and wrong["expect"] in v["message"], v["message"]


def test_code_that_does_not_compile_gets_a_verdict(tmp_path):
    bad = tmp_path / "rollout.cpp"
    bad.write_text("this is not C++\n")
    v = grade(str(bad), timed=False)
    assert not v["passed"] and "does not compile" in v["message"]


@pytest.mark.slow
def test_solution_is_timed_against_the_reference():
    v = grade(str(EX / META["solution"]))
    assert v["passed"] and v["speed"]["env_steps_per_s"] > 0
