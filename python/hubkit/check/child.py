"""The checker's child process: load the spec and the learner's code, grade, send a dict back.

Runs only inside a process started by `hubkit.check.runner`; everything it
learns goes back through the pipe, never through stdout.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from hubkit.check.exercises import NOT_IMPLEMENTED

# subtle: the fork server preloads this module (and torch._dynamo, see runner), so
# imports here are paid once, not per child. Keep it to imports, no tensor work:
# OpenMP threads started before a fork would hang the children.


def main(conn, payload: dict[str, Any]) -> None:
    """Entry point of the child: grade `payload` and send the verdict on `conn`."""
    _redirect_output(payload["log"])
    try:
        result = grade(payload)
    except BaseException as err:  # noqa: BLE001 - every failure must become a verdict
        result = {"status": "error", "message": f"the checker itself failed: {err!r}\n"
                  + traceback.format_exc(limit=-3)}
    sys.stdout.flush()
    sys.stderr.flush()
    conn.send(result)
    conn.close()


def _redirect_output(log: str) -> None:
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def _load_file(name: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _device(kind: str) -> torch.device:
    if kind in ("cuda", "triton") and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _backend(kind: str) -> str:
    if kind == "triton" and not torch.cuda.is_available():
        return "triton-interp"
    return kind


def load_learner(payload: dict[str, Any]) -> ModuleType:
    """The learner's code as a module: the compiled extension, or the entry Python file."""
    if payload["module"]:
        return _load_file(f"hubkit_ex_{payload['id']}", payload["module"])
    first = next(iter(payload["files"].values()))
    sys.path.insert(0, str(Path(first).parent))
    return _load_file(f"learner_{payload['id']}", first)


def grade(payload: dict[str, Any]) -> dict[str, Any]:
    """Load and grade; returns the fields of a Result the child knows."""
    from hubkit.check import timing

    kind = payload["kind"]
    if kind == "triton" and not torch.cuda.is_available():
        os.environ["TRITON_INTERPRET"] = "1"  # before the learner's code imports triton
    pinned = timing.pin_numerics()
    base = {"backend": _backend(kind), "machine": timing.machine() | pinned}
    if kind == "cuda" and not torch.cuda.is_available():
        return base | {"status": "not_run", "message": "compiled; not run: no CUDA device"}
    try:
        spec = _load_file(f"hubkit_spec_{payload['id']}",
                          str(Path(payload["root"]) / "spec.py")).SPEC
    except Exception as err:  # noqa: BLE001 - a broken exercise, not the learner's fault
        return base | {"status": "error", "message": "the exercise's spec.py failed to load "
                       f"(a hubkit bug, please report it): {err!r}\n{traceback.format_exc()}"}
    try:
        return base | _grade(spec, payload)
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        return base | _exception_verdict(err, payload)


def _grade(spec, payload: dict[str, Any]) -> dict[str, Any]:
    from hubkit.check import correctness, timing
    from hubkit.check.spec import CheckContext, CheckFailure, OpSpec

    ctx = CheckContext(gen=torch.Generator().manual_seed(payload["seed"]),
                       device=_device(payload["kind"]), fast=payload["fast"],
                       seed=payload["seed"], forbidden=tuple(spec.forbidden),
                       exercise=payload["id"])
    learner = load_learner(payload)
    try:
        if isinstance(spec, OpSpec):
            notes = correctness.check_op(spec, learner, ctx, payload["entry"])
        else:
            spec.check(learner, ctx)
            notes = [f"all checks passed (seed {ctx.seed})"]
    except CheckFailure as err:
        return {"status": "fail", "message": str(err), "notes": ctx.notes}
    timings = None
    if payload["timing"] and not (payload["kind"] == "triton" and not torch.cuda.is_available()):
        try:
            timings = _time(spec, learner, ctx, payload, timing, correctness)
        except CheckFailure as err:
            return {"status": "fail", "message": str(err), "notes": ctx.notes}
    return {"status": "pass", "message": "", "notes": notes + ctx.notes, "timings": timings}


def _time(spec, learner, ctx, payload, timing, correctness) -> dict[str, Any] | None:
    from hubkit.check.spec import OpSpec

    if isinstance(spec, OpSpec):
        fn = correctness.learner_function(spec, learner, ctx, payload["entry"])
        return timing.time_op(spec, fn, ctx)
    if spec.time is not None:
        return timing.time_custom(spec, learner, ctx)
    return None


def _exception_verdict(err: Exception, payload: dict[str, Any]) -> dict[str, Any]:
    text = f"{type(err).__name__}: {err}"
    if isinstance(err, SyntaxError):
        where = f"{err.filename}:{err.lineno}: " if err.filename else ""
        return {"status": "error", "message": f"{where}SyntaxError: {err.msg}\n"
                f"    {(err.text or '').rstrip()}"}
    if NOT_IMPLEMENTED in str(err) or isinstance(err, NotImplementedError):
        return {"status": "not_implemented", "message": f"{NOT_IMPLEMENTED}: {text}"}
    frames = traceback.extract_tb(err.__traceback__)
    mine = {str(Path(p).resolve()) for p in payload["files"].values()}
    learner_frames = [f for f in frames if str(Path(f.filename).resolve()) in mine]
    shown = traceback.format_list(learner_frames or frames[-3:])
    hint = ""
    if "illegal memory access" in str(err):
        hint = "\nhint: an index past the end of a buffer in your kernel (check bounds/masks)"
    return {"status": "error", "message": f"your code raised {text}{hint}\n" + "".join(shown)}
