"""The light commands never import torch (what makes them start fast; timed in
benchmarks/bench_cli.py, never asserted here)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Run a command in a fresh interpreter, then report which heavy modules it loaded.
PROBE = """
import json, sys
from hubkit.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as stop:
    code = stop.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "numpy", "triton", "pydantic"})
print("\\nLOADED " + json.dumps({"code": code, "heavy": heavy}))
"""


def _loaded(args: list[str], cwd) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL)
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("LOADED ")]
    assert line, proc.stdout + proc.stderr
    return json.loads(line[-1][len("LOADED "):])


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("ws") / "hub"
    subprocess.run([sys.executable, "-m", "hubkit.cli", "init", str(ws)], check=True,
                   capture_output=True, timeout=120)
    return ws


@pytest.mark.parametrize("args", [["--version"], ["list"], ["progress"],
                                  ["hint", "conv2d_numpy"], ["check", "--help"]])
def test_light_command_does_not_import_torch(args, workspace):
    loaded = _loaded(args, workspace)
    assert loaded["code"] == 0
    assert loaded["heavy"] == [], f"hubkit {' '.join(args)} imported {loaded['heavy']}"


def test_init_does_not_import_torch(tmp_path):
    loaded = _loaded(["init", str(tmp_path / "fresh")], tmp_path)
    assert loaded["code"] == 0 and loaded["heavy"] == []
    assert (tmp_path / "fresh" / "hubkit-progress.json").is_file()


def test_import_hubkit_does_not_import_torch_until_a_facade_is_used():
    code = ("import sys, hubkit; a = 'torch' in sys.modules; hubkit.ops; "
            "print(a, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=300)
    assert out.stdout.split() == ["False", "True"]
