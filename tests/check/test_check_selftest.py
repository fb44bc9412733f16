"""`hubkit check --self-test`: an author's check that every exercise behaves as declared."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_check_runner import make_exercise

WRONG = '''
[[wrong]]
file = "wrong/plus_one.py"
expect = "a message this wrong version never produces"
'''


def _hubkit(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hubkit.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=1200)


def test_self_test_passes_for_a_shipped_exercise_with_cheats():
    done = _hubkit("check", "--self-test", "conv2d_numpy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cheat:calls_reference" in done.stdout and "cheat:forged_clock" in done.stdout
    assert "FAIL" not in done.stdout
    assert "expectations met" in done.stdout


def test_self_test_fails_when_a_wrong_version_is_not_rejected_as_declared(tmp_path: Path):
    ex = make_exercise(tmp_path / "exercises")
    (ex.root / "wrong").mkdir()
    (ex.root / "wrong" / "plus_one.py").write_text(
        "def matmul(a, b):\n    return (a[:, :, None] * b[None]).sum(1) + 1\n")
    with open(ex.root / "exercise.toml", "a", encoding="utf-8") as f:
        f.write(WRONG)
    done = _hubkit("check", "--self-test", ex.id, env={"HUBKIT_EXERCISES": str(ex.root.parent)})
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAIL" in done.stdout and "wrong:plus_one" in done.stdout
    assert "expected 'a message this wrong version never produces'" in done.stdout
