"""The `hubkit` command, driven through typer's CliRunner."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import hubkit
from hubkit.check import get_exercise
from hubkit.cli import app

runner = CliRunner()


def run(*args: str, cwd: Path | None = None, monkeypatch=None):
    if cwd is not None and monkeypatch is not None:
        monkeypatch.chdir(cwd)
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_version_prints_the_package_version():
    result = run("--version")
    assert result.exit_code == 0 and hubkit.__version__ in result.output


def test_list_shows_all_eight_parts_and_the_example_exercise(tmp_path, monkeypatch):
    result = run("list", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0
    for part in range(1, 9):
        assert re.search(rf"Part {part}\b", result.output), part
    assert "bias_gelu_cpp" in result.output


def test_doctor_reports_the_cpp_backend_built():
    result = run("doctor")
    assert result.exit_code == 0
    assert re.search(r"cpp\s+│\s+available", result.output)
    assert "no CUDA device" in result.output or "CUDA" in result.output


@pytest.mark.parametrize("args", [("check", "no_such_exercise"), ("hint", "no_such_exercise"),
                                  ("check",), ("bench", "no_such_op")])
def test_user_error_is_one_line_nonzero_and_no_traceback(args, tmp_path, monkeypatch):
    result = run(*args, cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2
    text = result.output.strip()
    assert len(text.splitlines()) == 1 and text.startswith("error:"), text
    assert "Traceback" not in text


def test_check_without_a_workspace_says_how_to_make_one(tmp_path, monkeypatch):
    monkeypatch.delenv("HUBKIT_WORKSPACE", raising=False)
    result = run("check", "bias_gelu_cpp", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 2 and "hubkit init" in result.output


def test_new_user_flow_init_edit_check_progress(tmp_path, monkeypatch):
    ws = tmp_path / "hub"
    assert run("init", str(ws)).exit_code == 0
    starter = ws / "bias_gelu_cpp" / "bias_gelu.cpp"
    assert "not implemented yet" in starter.read_text()
    monkeypatch.chdir(ws)
    before = run("progress")
    assert "[ ] 3.1.e" in before.output
    failing = run("check", "bias_gelu_cpp", "--no-time", "--fast")
    assert failing.exit_code == 1 and "NOT IMPLEMENTED YET" in failing.output
    # The learner writes a correct answer (here: the shipped one) into the starter.
    shutil.copy(get_exercise("bias_gelu_cpp").solution_path("bias_gelu.cpp"), starter)
    passing = run("check", "bias_gelu_cpp", "--no-time", "--fast")
    assert passing.exit_code == 0 and "PASS" in passing.output, passing.output
    saved = json.loads((ws / "results" / "bias_gelu_cpp.json").read_text())
    assert saved["status"] == "pass" and saved["impl"] == "learner"
    after = run("progress")
    assert "[x] 3.1.e" in after.output
    assert "passed" in run("list").output


def test_hint_gives_the_next_hint_each_time(tmp_path, monkeypatch):
    run("init", str(tmp_path / "hub"))
    monkeypatch.chdir(tmp_path / "hub")
    assert "hint 1/" in run("hint", "bias_gelu_cpp").output
    assert "hint 2/" in run("hint", "bias_gelu_cpp").output


def test_check_all_without_workspace_grades_shipped_solutions(tmp_path, monkeypatch):
    monkeypatch.delenv("HUBKIT_WORKSPACE", raising=False)
    out = tmp_path / "results.json"
    result = run("check", "--all", "--no-time", "--fast", "--json", str(out), cwd=tmp_path,
                 monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.output
    assert "bias_gelu_cpp" in result.output and "PASS" in result.output
    rows = json.loads(out.read_text())
    assert all(r["impl"] == "solution" for r in rows)
    assert {r["exercise"] for r in rows} >= {"bias_gelu_cpp"}


def test_check_all_goes_on_after_a_crash_and_exits_nonzero(tmp_path, monkeypatch):
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "check"))
    from test_check_runner import make_exercise

    root = tmp_path / "exercises"
    crash = make_exercise(root, ex_id="a_crashes")
    (crash.root / "solution" / "mm.py").write_text(
        "import os, signal\n\ndef matmul(a, b):\n    os.kill(os.getpid(), signal.SIGSEGV)\n")
    make_exercise(root, ex_id="b_passes")
    monkeypatch.setenv("HUBKIT_EXERCISES", str(root))
    monkeypatch.delenv("HUBKIT_WORKSPACE", raising=False)
    out = tmp_path / "results.json"
    result = run("check", "--all", "--no-time", "--fast", "--json", str(out), cwd=tmp_path,
                 monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert "CRASH" in result.output and re.search(r"b_passes\s.*PASS", result.output)
    rows = {r["exercise"]: r for r in json.loads(out.read_text())}
    assert rows["a_crashes"]["status"] == "crash"
    assert "segmentation fault" in rows["a_crashes"]["message"]
    assert rows["b_passes"]["status"] == "pass"
