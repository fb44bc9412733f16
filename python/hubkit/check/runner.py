"""Running one implementation of one exercise in its own process, and reading the verdict.

The parent compiles cpp/cuda code (the compiler never runs learner code), then
starts a child process from a fork server that has torch imported already
(~20 ms a child instead of ~2 s). The child loads the spec and the learner's
module, grades it and sends a plain dict back through a private pipe; the
child's stdout/stderr go to a log file, so nothing the learner prints can
forge a verdict. A child that dies (segfault, abort) or outlives the timeout
(endless loop) becomes a verdict; the next check starts a fresh child.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing
import os
import secrets
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hubkit.check import build
from hubkit.check.exercises import Exercise
from hubkit.check.result import STATUSES, Result

_SIGNALS = {
    "SIGSEGV": "segmentation fault (SIGSEGV): a read or write outside your buffers? "
               "check indices and loop bounds",
    "SIGBUS": "bus error (SIGBUS): a misaligned or out-of-range pointer",
    "SIGFPE": "arithmetic error (SIGFPE): an integer division by zero?",
    "SIGILL": "illegal instruction (SIGILL)",
    "SIGABRT": "aborted (SIGABRT): a failed assert, or a C++ exception thrown inside an "
               "OpenMP region or another thread",
    "SIGKILL": "killed (SIGKILL): out of memory?",
}


def _context(kind: str = "python"):
    """Fork server (torch preloaded) by default; a fresh spawned interpreter where the
    child will use a GPU, since CUDA state does not survive a fork."""
    if sys.platform == "win32" or (kind in ("cuda", "triton") and _gpu_here()):
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # subtle: OpenMP reads OMP_NUM_THREADS once, when libgomp loads; the fork server
    # inherits this environment, so the learner's OpenMP loops see the pinned count.
    os.environ.setdefault("OMP_NUM_THREADS", str(os.cpu_count() or 1))
    # subtle: the learner guard (a TorchDispatchMode) imports torch._dynamo on its first
    # op, ~5 s on a 2-core machine; preloading it once here saves that in every child.
    ctx.set_forkserver_preload(["torch", "torch._dynamo", "hubkit.check.child"])
    return ctx


@functools.cache
def _gpu_here() -> bool:
    import torch

    return torch.cuda.is_available()


def _warm_up(kind: str) -> None:
    """Start the fork server now (it imports torch while the compiler runs)."""
    if _context(kind).get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    # subtle: torch._dynamo imports triton in the fork server, and triton fixes its
    # interpreter mode at import; without a GPU, Triton exercises need interpreter
    # mode there. Set only while the server starts, so this process is unchanged.
    saved = os.environ.get("TRITON_INTERPRET")
    if not _gpu_here():
        os.environ["TRITON_INTERPRET"] = "1"
    try:
        forkserver.ensure_running()
    finally:
        if saved is None:
            os.environ.pop("TRITON_INTERPRET", None)
        else:
            os.environ["TRITON_INTERPRET"] = saved


def prepare(ex: Exercise, files: dict[str, Path]) -> tuple[str | None, str | None]:
    """Compile cpp/cuda files; return (module path, None) or (None, compiler output)."""
    if ex.kind not in ("cpp", "cuda"):
        return None, None
    sources = [p for p in files.values() if p.suffix in (".cpp", ".cu", ".cc")]
    sources += [ex.support_path(s) for s in ex.support if s.endswith((".cpp", ".cu", ".cc"))]
    includes = sorted({p.parent for p in files.values()} | {ex.root / "support"})
    link_args: tuple[str, ...] = ()
    try:
        if ex.build:  # a third-party library: its headers and the library to link
            extra = _build_hook(ex.build)()
            includes += [Path(d) for d in extra.get("include_dirs", ())]
            link_args = tuple(extra.get("link_args", ()))
        return str(build.build_module(sources, f"hubkit_ex_{ex.id}", includes, link_args)), None
    except build.CompileError as err:
        return None, str(err)


def _build_hook(target: str):
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_check(ex: Exercise, files: dict[str, Path], *, impl: str = "learner",
              seed: int | None = None, fast: bool = False, timing: bool = True,
              timeout: float | None = None) -> Result:
    """Grade `files` (learner file name -> path) for exercise `ex` in an isolated child.

    Args:
        ex: the exercise.
        files: the implementation's files, keyed by the names in `ex.files`.
        impl: label recorded in the result ("learner", "solution", "wrong:zeros").
        seed: replay a run; None draws an unpredictable one.
        fast: the test-suite mode (fewer cases, no opcheck extras).
        timing: time against the reference and hubkit's own op after a pass.
        timeout: seconds for the child; default the exercise's own.
    """
    seed = secrets.randbits(31) if seed is None else seed
    started = time.perf_counter()
    missing = ex.missing_packages()
    if missing:
        return Result(exercise=ex.id, impl=impl, kind=ex.kind, seed=seed, status="skipped",
                      message=f"skipped: needs {', '.join(missing)} "
                              "(pip install 'hubkit[all]')")
    _warm_up(ex.kind)  # the fork server imports torch while the compiler runs
    module, compile_error = prepare(ex, files)
    base = dict(exercise=ex.id, impl=impl, kind=ex.kind, seed=seed)
    if compile_error is not None:
        return Result(**base, status="compile_error", message=compile_error,
                      elapsed_s=time.perf_counter() - started)
    payload = {"root": str(ex.root), "id": ex.id, "kind": ex.kind, "entry": ex.entry,
               "files": {k: str(v) for k, v in files.items()}, "module": module, "seed": seed,
               "fast": fast, "timing": timing}
    reply = _run_child(payload, timeout or ex.timeout)
    known = {f.name for f in dataclasses.fields(Result)} - set(base) - {"elapsed_s", "when"}
    fields = {k: v for k, v in reply.items() if k in known}
    if fields.get("status") not in STATUSES:
        fields = {"status": "error", "message": f"malformed reply from the child: {reply!r:.200}"}
    return Result(**base, **fields, elapsed_s=time.perf_counter() - started)


def _needs_interpreter(payload: dict[str, Any]) -> bool:
    """A triton exercise without a GPU, from a parent that did not set TRITON_INTERPRET=1."""
    if payload["kind"] != "triton" or os.environ.get("TRITON_INTERPRET") == "1":
        return False
    return not _gpu_here()


@contextlib.contextmanager
def _interpreter_env(on: bool):
    before = os.environ.get("TRITON_INTERPRET")
    if on:
        os.environ["TRITON_INTERPRET"] = "1"
    try:
        yield
    finally:
        if on and before is None:
            os.environ.pop("TRITON_INTERPRET", None)
        elif on:
            os.environ["TRITON_INTERPRET"] = before


def _run_child(payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    # subtle: `import hubkit` imports triton (through torch._dynamo), and triton fixes
    # compiled vs interpreted mode for its own helpers (tl.max, tl.sum) at import. The
    # fork server has hubkit preloaded, so an interpreted child is spawned fresh instead,
    # with TRITON_INTERPRET=1 in its environment from the start.
    interpret = _needs_interpreter(payload)
    ctx = multiprocessing.get_context("spawn") if interpret else _context(payload["kind"])
    fd, log = tempfile.mkstemp(prefix="hubkit-check-", suffix=".log")
    os.close(fd)
    payload["log"] = log
    reader, writer = ctx.Pipe(duplex=False)
    from hubkit.check.child import main as child_main

    _warm_up(payload["kind"])  # (re)starts the fork server if it is not running
    proc = ctx.Process(target=child_main, args=(writer, payload), daemon=True)
    with _interpreter_env(interpret):
        proc.start()
    writer.close()
    try:
        return _wait(proc, reader, timeout) | {"output": _tail(log)}
    finally:
        reader.close()
        Path(log).unlink(missing_ok=True)


def _wait(proc, reader, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reader.poll(0.05):
            try:
                message = reader.recv()
            except (EOFError, OSError):
                break  # the child died before sending
            proc.join(10)
            if proc.is_alive():  # e.g. a thread the learner started keeps it from exiting
                proc.kill()
                proc.join()
            return message if isinstance(message, dict) else {"reply": message}
        if not proc.is_alive():
            proc.join()
            if reader.poll(0):
                continue
            break
    else:
        proc.kill()
        proc.join()
        return {"status": "timeout", "message": f"timed out after {timeout:.0f} s: an endless "
                "loop, a deadlock, or code far too slow for these sizes"}
    proc.join(5)
    return _death(proc.exitcode)


def _death(code: int | None) -> dict[str, Any]:
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        why = _SIGNALS.get(name, name)
        return {"status": "crash", "message": f"crashed: {why}"}
    return {"status": "crash", "message": f"the checker's process exited with code {code} "
            "before reporting (sys.exit or os._exit in your code?)"}


def _tail(path: str, limit: int = 4000) -> str:
    """The last `limit` bytes the child printed (a learner may print gigabytes)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(f.seek(0, os.SEEK_END) - limit, 0))
            return f.read().decode(errors="replace")
    except OSError:
        return ""
