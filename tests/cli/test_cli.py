"""The `hubkit` command, driven through `hubkit.cli.main` (output captured as a pipe)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest

import hubkit
from hubkit.check import get_exercise
from hubkit.cli import main


class Run:
    """What one command printed and returned."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code, self.stdout, self.stderr = code, out, err
        self.output = out + err


@pytest.fixture
def run(capsys, monkeypatch):
    def invoke(*args: str, cwd: Path | None = None) -> Run:
        if cwd is not None:
            monkeypatch.chdir(cwd)
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse's --help / --version / usage errors
            code = stop.code or 0
        out = capsys.readouterr()
        return Run(code, out.out, out.err)

    monkeypatch.delenv("HUBKIT_WORKSPACE", raising=False)
    return invoke


def test_version_prints_the_package_version(run):
    result = run("--version")
    assert result.exit_code == 0 and hubkit.__version__ in result.output


def test_list_shows_all_eight_parts_and_the_example_exercise(run, tmp_path):
    result = run("list", cwd=tmp_path)
    assert result.exit_code == 0
    for part in range(1, 9):
        assert re.search(rf"Part {part}\b", result.output), part
    assert "bias_gelu_cpp" in result.output


def test_doctor_reports_the_cpp_backend_built(run):
    result = run("doctor")
    assert result.exit_code == 0
    assert re.search(r"cpp\s+│\s+available", result.output)
    assert "no CUDA device" in result.output or "CUDA" in result.output


@pytest.mark.parametrize("args", [("check", "no_such_exercise"), ("hint", "no_such_exercise"),
                                  ("check",), ("bench", "no_such_op"),
                                  ("check", "--all", "--only", "no_such_*")])
def test_user_error_is_one_line_nonzero_and_no_traceback(run, args, tmp_path):
    result = run(*args, cwd=tmp_path)
    assert result.exit_code == 2
    text = result.output.strip()
    assert len(text.splitlines()) == 1 and text.startswith("error:"), text
    assert "Traceback" not in text


def test_check_without_a_workspace_says_how_to_make_one(run, tmp_path):
    result = run("check", "bias_gelu_cpp", cwd=tmp_path)
    assert result.exit_code == 2 and "hubkit init" in result.output


def test_check_help_documents_the_exit_statuses(run):
    result = run("check", "--help")
    assert result.exit_code == 0
    for status in ("0  every exercise graded passed", "1  at least one failed",
                   "3  nothing failed, but something was not graded", "SKIPPED", "NOT RUN"):
        assert status in result.stdout, status


def test_new_user_flow_init_edit_check_progress(run, tmp_path):
    ws = tmp_path / "hub"
    assert run("init", str(ws)).exit_code == 0
    starter = ws / "bias_gelu_cpp" / "bias_gelu.cpp"
    assert "not implemented yet" in starter.read_text()
    before = run("progress", cwd=ws)
    assert "[ ] 3.1.e" in before.output
    failing = run("check", "bias_gelu_cpp", "--no-time", "--fast")
    assert failing.exit_code == 1 and "NOT IMPLEMENTED YET" in failing.output
    # The learner writes a correct answer (here: the shipped one) into the starter.
    shutil.copy(get_exercise("bias_gelu_cpp").solution_path("bias_gelu.cpp"), starter)
    passing = run("check", "bias_gelu_cpp", "--no-time", "--fast")
    assert passing.exit_code == 0 and "PASS" in passing.output, passing.output
    saved = json.loads((ws / "results" / "bias_gelu_cpp.json").read_text())
    assert saved["status"] == "pass" and saved["impl"] == "learner"
    assert "[x] 3.1.e" in run("progress").output
    assert "passed" in run("list").output
    history = run("progress", "--history", "bias_gelu_cpp")
    assert history.exit_code == 0 and "1 passing attempts" in history.output
    assert (ws / "history" / "bias_gelu_cpp.png").is_file()


# ---------------------------------------------------------------- init and hint

def test_init_refuses_a_non_empty_folder_and_writes_nothing(run, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run("init", str(tmp_path))
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_init_force_writes_beside_existing_files(run, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = run("init", str(tmp_path), "--force")
    assert result.exit_code == 0
    assert (tmp_path / "hubkit-progress.json").is_file()
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_init_completes_an_existing_workspace_without_force(run, tmp_path):
    ws = tmp_path / "hub"
    run("init", str(ws))
    (ws / "bias_gelu_cpp" / "bias_gelu.cpp").unlink()
    result = run("init", str(ws))
    assert result.exit_code == 0 and "(1 files written)" in result.output
    assert (ws / "bias_gelu_cpp" / "bias_gelu.cpp").is_file()


def test_hint_gives_the_next_hint_each_time(run, tmp_path):
    run("init", str(tmp_path / "hub"))
    assert "hint 1/" in run("hint", "bias_gelu_cpp", cwd=tmp_path / "hub").output
    assert "hint 2/" in run("hint", "bias_gelu_cpp").output


def test_hint_outside_a_workspace_says_it_cannot_advance(run, tmp_path):
    outputs = [run("hint", "bias_gelu_cpp", cwd=tmp_path).output for _ in range(2)]
    assert all("hint 1/" in out and "always hint 1" in out for out in outputs)
    run("init", str(tmp_path / "hub"))
    assert "always hint 1" not in run("hint", "bias_gelu_cpp", cwd=tmp_path / "hub").output


def test_hint_past_the_last_says_no_more_hints(run, tmp_path):
    run("init", str(tmp_path / "hub"))
    n = len(get_exercise("conv2d_numpy").hints)
    outputs = [run("hint", "conv2d_numpy", cwd=tmp_path / "hub").output for _ in range(n + 2)]
    assert f"hint {n}/{n}" in outputs[n - 1]
    for extra in outputs[n:]:
        assert extra.startswith("No more hints for conv2d_numpy")
        assert f"{n}/{n}" not in extra


# ---------------------------------------------------------------- progress

def test_progress_shows_planned_objectives_and_counts_only_tickable_ones(run, tmp_path):
    from hubkit.curriculum import iter_objectives

    known = {ex.id for ex in hubkit.check.all_exercises()}
    objectives = list(iter_objectives())
    can = [o for o in objectives if o.exercises and set(o.exercises) <= known]
    planned = [o for o in objectives if o not in can]
    assert can and planned
    result = run("progress", cwd=tmp_path)
    assert (f"0 of {len(can)} objectives you can tick today are ticked; "
            f"{len(planned)} planned") in result.output
    line = next(ln for ln in result.output.splitlines() if f" {planned[0].id} " in ln)
    assert "planned" in line and "[ ]" not in line
    assert f"[ ] {can[0].id} " in result.output


# ---------------------------------------------------------------- check --all

def _three_exercises(monkeypatch) -> list[str]:
    ids = ["bias_gelu_cpp", "conv2d_cpp", "conv2d_numpy"]
    chosen = [get_exercise(i) for i in ids]
    monkeypatch.setattr("hubkit.check.exercises.all_exercises", lambda root=None: chosen)
    return ids


def _fake_grade(statuses: dict[str, str], seen: list[str], capsys):
    """A grade() that returns canned statuses and records what was printed before it ran."""
    from hubkit.check.result import Result

    def grade(ex, ws, solution, seed, timing, fast):
        so_far = capsys.readouterr().out
        sys.stdout.write(so_far)  # put it back for the final check
        seen.append(so_far)
        return Result(ex.id, "solution", ex.kind, statuses[ex.id], message="why: " + ex.id,
                      elapsed_s=1.0)

    return grade


@pytest.mark.parametrize("statuses, code", [
    (("pass", "pass", "pass"), 0),
    (("pass", "skipped", "not_run"), 3),
    (("fail", "skipped", "pass"), 1),
    (("pass", "crash", "not_run"), 1),
])
def test_check_all_exit_status_tells_skips_apart_from_passes(run, monkeypatch, capsys, tmp_path,
                                                             statuses, code):
    ids = _three_exercises(monkeypatch)
    canned = dict(zip(ids, statuses, strict=True))
    monkeypatch.setattr("hubkit.cli.grade", _fake_grade(canned, [], capsys))
    out = tmp_path / "r.json"
    result = run("check", "--all", "--json", str(out), cwd=tmp_path)
    assert result.exit_code == code, result.output
    rows = [ln for ln in result.stdout.splitlines() if re.match(r"\[\d/3\]", ln)]
    assert [ln.split()[1] for ln in rows] == ids
    labels = {"pass": "PASS", "skipped": "SKIPPED", "not_run": "NOT RUN", "fail": "FAIL",
              "crash": "CRASH"}
    for ln, status in zip(rows, statuses, strict=True):
        assert f" {labels[status]} " in ln, ln
    assert len(json.loads(out.read_text())) == 3


def test_check_all_prints_each_row_with_n_of_N_and_eta_as_it_finishes(run, monkeypatch, capsys,
                                                                      tmp_path):
    ids = _three_exercises(monkeypatch)
    seen: list[str] = []
    monkeypatch.setattr("hubkit.cli.grade", _fake_grade(dict.fromkeys(ids, "pass"), seen, capsys))
    result = run("check", "--all", cwd=tmp_path)
    assert result.exit_code == 0
    # before grading the k-th exercise, rows 1..k-1 were already printed (streamed, piped)
    assert "[1/3] bias_gelu_cpp" in seen[1] and "ETA " in seen[1]
    assert "[2/3] conv2d_cpp" in seen[2]
    assert "[3/3] conv2d_numpy" in result.stdout and "done" in result.stdout
    assert "3 exercises in" in result.stdout and "3 passed" in result.stdout


def test_check_all_without_workspace_grades_shipped_solutions(run, tmp_path):
    out = tmp_path / "results.json"
    result = run("check", "--all", "--only", "bias_gelu_cpp", "--no-time", "--fast", "--json",
                 str(out), cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert re.search(r"\[1/1\] bias_gelu_cpp .* PASS", result.output)
    rows = json.loads(out.read_text())
    assert [(r["impl"], r["exercise"]) for r in rows] == [("solution", "bias_gelu_cpp")]


def test_check_all_goes_on_after_a_crash_and_exits_nonzero(run, tmp_path, monkeypatch):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))
    from test_check_runner import make_exercise

    root = tmp_path / "exercises"
    crash = make_exercise(root, ex_id="a_crashes")
    (crash.root / "solution" / "mm.py").write_text(
        "import os, signal\n\ndef matmul(a, b):\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    make_exercise(root, ex_id="b_passes")
    monkeypatch.setenv("HUBKIT_EXERCISES", str(root))
    out = tmp_path / "results.json"
    result = run("check", "--all", "--no-time", "--fast", "--json", str(out), cwd=tmp_path)
    assert result.exit_code == 1
    assert "CRASH" in result.output and re.search(r"b_passes\s.*PASS", result.output)
    rows = {r["exercise"]: r for r in json.loads(out.read_text())}
    assert rows["a_crashes"]["status"] == "crash"
    assert "segmentation fault" in rows["a_crashes"]["message"]
    assert rows["b_passes"]["status"] == "pass"


class _Terminal:
    """A stdin that says it is a terminal."""

    @staticmethod
    def isatty() -> bool:
        return True


@pytest.mark.parametrize("answer, code", [("y", 0), ("", 2)])
def test_init_asks_on_a_terminal(run, tmp_path, monkeypatch, answer, code):
    (tmp_path / "notes.txt").write_text("mine")
    asked: list[str] = []
    monkeypatch.setattr("sys.stdin", _Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: asked.append(prompt) or answer)
    result = run("init", str(tmp_path))
    assert result.exit_code == code
    assert asked and "not empty" in asked[0] and "[y/N]" in asked[0]
    assert (tmp_path / "hubkit-progress.json").is_file() == (answer == "y")
