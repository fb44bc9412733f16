"""Grading one implementation of one exercise: the grader's side of the trust boundary.

This process (the grader) compiles cpp/cuda code (the compiler never runs
learner code), loads the exercise's spec, draws the inputs, computes the
float64 reference, compares, and writes the verdict. It never imports or runs
the learner's code: that runs in a separate, hardened process
(`hubkit.check.child`, started through `hubkit.check.rpc.Session`) that
receives inputs and returns outputs as data. Its stdout/stderr go to a log
file. A learner's process that dies (segfault, abort, a limit) or outlives its
phase's budget becomes a verdict; the next check starts a fresh one.

Two phases, each with its own budget: correctness (the exercise's timeout),
then timing (`timing.PHASE_S`). A correct solution too slow to time passes,
with a message that says so and names the phase.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import secrets
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from hubkit.check import build, rpc
from hubkit.check.exercises import NOT_IMPLEMENTED, Exercise
from hubkit.check.result import STATUSES, Result


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
    """Grade `files` (learner file name -> path) for exercise `ex`; the code runs isolated.

    Args:
        ex: the exercise.
        files: the implementation's files, keyed by the names in `ex.files`.
        impl: label recorded in the result ("learner", "solution", "wrong:zeros").
        seed: replay a run; None draws an unpredictable one.
        fast: the test-suite mode (fewer cases, no opcheck extras).
        timing: time against the reference and hubkit's own op after a pass.
        timeout: seconds for the correctness phase; default the exercise's own.
    """
    seed = secrets.randbits(31) if seed is None else seed
    started = time.perf_counter()
    base = dict(exercise=ex.id, impl=impl, kind=ex.kind, seed=seed)
    missing = ex.missing_packages()
    if missing:
        return Result(**base, status="skipped", message=f"skipped: needs {', '.join(missing)} "
                      "(pip install 'hubkit-learn[all]')")
    rpc.warm_up(ex.kind)  # the fork server imports torch while the compiler runs
    module, compile_error = prepare(ex, files)
    if compile_error is not None:
        return Result(**base, status="compile_error", message=compile_error,
                      elapsed_s=time.perf_counter() - started)
    fields = grade(ex, files, module, seed=seed, fast=fast, timing=timing,
                   timeout=timeout or ex.timeout)
    known = {f.name for f in dataclasses.fields(Result)} - set(base) - {"elapsed_s", "when"}
    fields = {k: v for k, v in fields.items() if k in known}
    if fields.get("status") not in STATUSES:
        fields = {"status": "error", "message": f"malformed verdict: {fields!r:.200}"}
    return Result(**base, **fields, elapsed_s=time.perf_counter() - started)


def load_spec(ex: Exercise):
    """The exercise's SPEC, loaded here in the grader (never in the learner's process)."""
    name = f"hubkit_spec_{ex.id}"
    spec = importlib.util.spec_from_file_location(name, ex.root / "spec.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module.SPEC


def _payload(ex: Exercise, files: dict[str, Path], module: str | None, spec) -> dict[str, Any]:
    from hubkit.check.spec import OpSpec

    return {"root": str(ex.root), "id": ex.id, "kind": ex.kind, "entry": ex.entry,
            "files": {k: str(v) for k, v in files.items()}, "module": module,
            "op": isinstance(spec, OpSpec), "forbidden": list(spec.forbidden),
            "memory_gb": ex.memory_gb, "gpu": ex.kind in ("cuda", "triton") and rpc.gpu_here()}


def grade(ex: Exercise, files: dict[str, Path], module: str | None, *, seed: int,
          fast: bool, timing: bool, timeout: float) -> dict[str, Any]:
    """Everything after compiling: the verdict's fields."""
    from hubkit.check import timing as timing_mod

    machine = timing_mod.machine() | timing_mod.pin_numerics()
    base = {"backend": _backend(ex.kind), "machine": machine}
    if ex.kind == "cuda" and not rpc.gpu_here():
        return base | {"status": "not_run", "message": "compiled; not run: no CUDA device"}
    try:
        spec = load_spec(ex)
    except Exception as err:  # noqa: BLE001 - a broken exercise, not the learner's fault
        return base | {"status": "error", "message": "the exercise's spec.py failed to load "
                       f"(a hubkit bug, please report it): {err!r}\n{traceback.format_exc()}"}
    session = rpc.Session(_payload(ex, files, module, spec), timeout)
    try:
        session.start(interpret=_needs_interpreter(ex.kind))
        verdict = _grade(ex, spec, session, seed=seed, fast=fast, timing=timing)
    except rpc.Gone as gone:
        verdict = gone.verdict
    except rpc.LearnerRaised as err:
        verdict = exception_verdict(err.info, session.limits)
    finally:
        output = session.close()
    return base | verdict | {"output": output}


def _backend(kind: str) -> str:
    if kind == "triton" and not rpc.gpu_here():
        return "triton-interp"
    return kind


def _needs_interpreter(kind: str) -> bool:
    """A triton exercise without a GPU: its process is spawned with TRITON_INTERPRET=1."""
    import os

    return kind == "triton" and os.environ.get("TRITON_INTERPRET") != "1" and not rpc.gpu_here()


def _device(kind: str):
    import torch

    return torch.device("cuda" if kind in ("cuda", "triton") and rpc.gpu_here() else "cpu")


def _grade(ex: Exercise, spec, session, *, seed: int, fast: bool, timing: bool) -> dict:
    import torch

    from hubkit.check import correctness
    from hubkit.check.spec import CheckContext, CheckFailure, OpSpec

    ctx = CheckContext(gen=torch.Generator().manual_seed(seed), device=_device(ex.kind),
                       fast=fast, seed=seed, forbidden=tuple(spec.forbidden), exercise=ex.id,
                       in_grader=True)
    try:
        if isinstance(spec, OpSpec):
            notes = correctness.check_op(spec, session, ctx)
        else:
            spec.check(session.module, ctx)
            notes = [f"all checks passed (seed {ctx.seed})"]
    except CheckFailure as err:
        return {"status": "fail", "message": str(err), "notes": ctx.notes}
    except (rpc.Gone, rpc.LearnerRaised):
        raise
    except Exception as err:  # noqa: BLE001 - the spec choked on what the learner returned
        return {"status": "error", "message": "the checker could not use what your code "
                f"returned: {type(err).__name__}: {err}", "notes": ctx.notes}
    verdict = {"status": "pass", "message": "", "notes": notes + ctx.notes, "timings": None}
    if timing and not (ex.kind == "triton" and not rpc.gpu_here()):
        verdict |= _timing_phase(ex, spec, session, ctx)
    return verdict


def _timing_phase(ex: Exercise, spec, session, ctx) -> dict[str, Any]:
    """Timings, or a pass message saying why there are none; a wrong timed output fails."""
    from hubkit.check import timing
    from hubkit.check.spec import CheckFailure, OpSpec

    session.phase("timing", timing.PHASE_S)
    if not isinstance(spec, OpSpec) and spec.time is None:
        return {}
    worker = _worker(ex, spec) if isinstance(spec, OpSpec) else None
    try:
        if isinstance(spec, OpSpec):
            return {"timings": timing.time_op(spec, session, worker, ctx)}
        return {"timings": timing.time_custom(spec, session.module, ctx)}
    except CheckFailure as err:
        return {"status": "fail", "message": str(err)}
    except timing.TooSlow as slow:
        return {"message": str(slow)}
    except rpc.Gone as gone:
        if gone.verdict.get("phase") != "timing":
            raise
        case = spec.bench(ctx).name if isinstance(spec, OpSpec) and spec.bench else "case"
        return {"message": timing.too_slow_message(timing.PHASE_S, case, timing.PHASE_S,
                                                   took_more=True)}
    finally:
        if worker is not None:
            worker.close()


def _worker(ex: Exercise, spec):
    """The trusted worker running the reference and hubkit's op for timing (None if it
    cannot start: then only the learner's code is timed)."""
    from hubkit.check import timing

    payload = {"root": str(ex.root), "id": ex.id, "kind": ex.kind, "entry": ex.entry,
               "files": {}, "module": None, "trusted": True, "forbidden": []}
    worker = rpc.Session(payload, timing.PHASE_S, phase="timing")
    try:
        worker.start(interpret=_needs_interpreter(ex.kind))
        return worker
    except (rpc.Gone, rpc.LearnerRaised):
        worker.close()
        return None


def exception_verdict(info: dict[str, Any], limits: dict[str, Any] | None = None) -> dict:
    """The verdict for an exception raised by the learner's code (described as data)."""
    text = f"{info.get('type')}: {info.get('text')}"
    if info.get("syntax"):
        return {"status": "error", "message": str(info["syntax"])}
    if info.get("not_implemented"):
        return {"status": "not_implemented", "message": f"{NOT_IMPLEMENTED}: {text}"}
    if info.get("memory"):
        gb = (limits or {}).get("memory_gb", rpc.LIMITS["memory_gb"])
        return {"status": "error", "message": f"used more than {gb:g} GiB of memory (the "
                f"checker's limit): {text}\n{info.get('frames', '')}"}
    hint = ""
    if "illegal memory access" in str(info.get("text")):
        hint = "\nhint: an index past the end of a buffer in your kernel (check bounds/masks)"
    if "refused in the checker's sandbox" in str(info.get("text")):
        return {"status": "fail", "message": f"{info.get('text')}\n{info.get('frames', '')}"}
    return {"status": "error", "message": f"your code raised {text}{hint}\n"
            f"{info.get('frames', '')}"}
