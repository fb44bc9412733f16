"""Startup of the light `hubkit` commands, timed as whole processes (goal: < 0.5 s each).

Each round starts a fresh `hubkit ...` process and waits for it to exit: what a
learner feels at the prompt. `python -c pass` is the floor (the interpreter's
own start). Run:

    pytest benchmarks/bench_cli.py --benchmark-only --benchmark-columns=median,iqr,rounds

`tests/cli/test_cli_startup.py` checks the reason these are fast (torch is
never imported); this file measures it and asserts nothing.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys

import pytest

from benchmarks.conftest import record

ROUNDS = 15


def _hubkit() -> list[str]:
    found = shutil.which("hubkit")
    return [found] if found else [sys.executable, "-m", "hubkit"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    ws = tmp_path_factory.mktemp("bench") / "hub"
    subprocess.run([*_hubkit(), "init", str(ws)], check=True, capture_output=True)
    return ws


def _run(cmd: list[str], cwd) -> None:
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)


def _time(benchmark, cmd: list[str], cwd, name: str) -> None:
    record(benchmark, op="cli", provider="hubkit" if name != "python" else "python",
           shape=name, ran=f"a new process: {' '.join(cmd)}")
    benchmark.pedantic(_run, args=(cmd, cwd), rounds=ROUNDS, iterations=1, warmup_rounds=1)


def test_python_startup_floor(benchmark, workspace):
    _time(benchmark, [sys.executable, "-c", "pass"], workspace, "python")


@pytest.mark.parametrize("args", [["--version"], ["list"], ["progress"],
                                  ["hint", "conv2d_numpy"], ["check", "--help"]],
                         ids=lambda a: a[0].lstrip("-"))
def test_light_command(benchmark, workspace, args):
    _time(benchmark, [*_hubkit(), *args], workspace, " ".join(args))


def test_init_into_a_new_folder(benchmark, tmp_path):
    fresh = (tmp_path / f"ws{i}" for i in itertools.count())
    record(benchmark, op="cli", provider="hubkit", shape="init",
           ran="a new process: hubkit init DIR (a fresh folder each round)")
    benchmark.pedantic(lambda: _run([*_hubkit(), "init", str(next(fresh))], tmp_path),
                       rounds=ROUNDS, iterations=1, warmup_rounds=1)
