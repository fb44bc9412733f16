"""`hubkit watch`: saving a file in the workspace re-checks that exercise."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from hubkit.check import get_exercise

pytest.importorskip("watchfiles")


def _lines(proc: subprocess.Popen) -> queue.Queue:
    out: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            out.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return out


def _wait_for(lines: queue.Queue, text: str, seconds: float) -> str:
    seen, end = "", time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            seen += lines.get(timeout=0.5)
        except queue.Empty:
            continue
        if text in seen:
            return seen
    raise AssertionError(f"{text!r} not printed within {seconds:.0f} s; got:\n{seen}")


def test_saving_the_solution_into_the_workspace_rechecks_it_to_a_pass(tmp_path: Path):
    ws = tmp_path / "ws"
    hubkit = [sys.executable, "-m", "hubkit.cli"]
    subprocess.run([*hubkit, "init", str(ws)], check=True, capture_output=True, timeout=120)
    ex = get_exercise("value_iteration")
    target = next(ws.rglob(ex.files[0]))
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([*hubkit, "watch", ex.id, "--workspace", str(ws)], cwd=ws, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        lines = _lines(proc)
        _wait_for(lines, "watching", 120)
        time.sleep(1.0)  # let the watcher settle before the change
        shutil.copyfile(ex.solution_path(ex.files[0]), target)
        assert "PASS" in _wait_for(lines, "PASS", 300)
    finally:
        proc.terminate()
        proc.wait(10)
