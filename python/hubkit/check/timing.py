"""Timing the reference, the learner's code and hubkit's shipped op, fairly.

* on the grader's clock: each timed call is one request to a process, timed
  from the grader's side (send the inputs, run, receive the outputs). The
  learner's code runs in its process; the reference and hubkit's op run in a
  trusted worker process behind the same channel, so every provider pays the
  same transfer costs and nothing the learner's code does to its own clock
  (a patched time.perf_counter) reaches the measurement;
* interleaved: each round runs every provider once, in a rotated order, so a
  machine that slows down (thermal, a noisy neighbour) hurts all of them alike;
* fresh inputs every round, and every timed output is re-checked against the
  float64 reference (a fast wrong answer, or an answer cached by shape, is a
  failure, not a speedup);
* rounds go on until `hubkit.check.speed.enough` says the ratio's confidence
  interval is narrow, or the loop's budget ends;
* a call slower than the timing phase allows is not timed: correctness stands
  ("too slow to time"), and the message says what took how long;
* TF32 off; the thread count pinned and recorded with the machine.
"""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import torch

from hubkit.check.compare import assert_close
from hubkit.check.correctness import _as_tuple, out_dtype, reference64
from hubkit.check.spec import CheckContext, CheckFailure, OpSpec

MIN_ROUNDS, MAX_ROUNDS, BUDGET_S = 5, 31, 1.5
PHASE_S = 20.0  # the timing phase's own budget (correctness has the exercise's timeout)


def pin_numerics(threads: int | None = None) -> dict[str, Any]:
    """Turn TF32 off and pin torch's thread count; return what was set."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")
    n = threads or int(os.environ.get("HUBKIT_THREADS", 0)) or torch.get_num_threads()
    torch.set_num_threads(n)
    return {"threads": n, "tf32": False, "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """A description of this machine for results: CPU, cores, GPU, versions."""
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": _cpu_model(), "cores": os.cpu_count(), "threads": torch.get_num_threads(),
            "gpu": gpu, "torch": torch.__version__, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}",
            "loadavg": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}


def describe(m: dict[str, Any]) -> str:
    """One line: 'AMD EPYC ... (2 cores, 2 threads), no GPU, torch 2.x'."""
    gpu = m.get("gpu") or "no GPU"
    return f"{m['cpu']} ({m['cores']} cores, {m['threads']} threads), {gpu}, torch {m['torch']}"



class TooSlow(Exception):
    """One call of the learner's code takes too long to time; correctness stands."""


def _timed(call, args: list) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = call(args)
    return out, time.perf_counter() - t0


def describe_providers(spec: OpSpec) -> dict[str, str]:
    """What each timed provider is, in words a learner reads."""
    def name(fn) -> str:
        mod, qual = getattr(fn, "__module__", ""), getattr(fn, "__qualname__", "")
        return f"{mod}.{qual}" if mod and "<lambda>" not in qual else "hubkit's own op"

    given = spec.names or {}
    out = {"learner": "your code",
           "reference": given.get("reference", f"the reference ({name(spec.reference)})")}
    if spec.shipped is not None:
        out["shipped"] = given.get("shipped", f"hubkit's shipped op ({name(spec.shipped)})")
    return out


def time_op(spec: OpSpec, session, worker, ctx: CheckContext) -> dict[str, Any]:
    """Interleaved rounds of learner / reference / shipped, timed on the grader's clock.

    Args:
        session: the learner's process (hubkit.check.rpc.Session), in its timing phase.
        worker: the trusted worker running `spec.reference` and `spec.shipped`, or None
            (then only the learner is timed).

    Raises:
        CheckFailure: a timed output of the learner's code is wrong.
        TooSlow: one call of the learner's code exceeds what the phase can time.
    """
    from hubkit.check import speed

    calls = {"learner": lambda a: session.op(a)}
    if worker is not None:
        calls["reference"] = lambda a: worker.op(a, "reference")
        if spec.shipped is not None:
            calls["shipped"] = lambda a: worker.op(a, "shipped")
    rounds: dict[str, list[float]] = {k: [] for k in calls}
    failed: dict[str, str] = {}
    start = time.perf_counter()
    for rnd in range(MAX_ROUNDS + 1):  # round 0 warms up and is not recorded
        case = spec.bench(ctx) if spec.bench is not None else spec.cases(ctx)[-1]
        _, want = reference64(spec, case)
        names = list(calls)[rnd % len(calls):] + list(calls)[:rnd % len(calls)]
        for name in names:
            if name in failed:
                continue
            dt = _run_provider(spec, case, want, name, calls[name], failed)
            if name == "learner" and rnd == 0:
                _too_slow_check(dt, case, session)
            if rnd and dt is not None:
                rounds[name].append(dt)
        if rnd >= MIN_ROUNDS and (time.perf_counter() - start > BUDGET_S or
                                  ("reference" in rounds and speed.enough(
                                      rounds, "reference", "learner"))):
            break
    return {"rounds": {k: v for k, v in rounds.items() if v}, "providers": describe_providers(spec),
            "baseline": "reference" if rounds.get("reference") else "learner",
            "subject": "learner", "case": case.name, "skipped": failed,
            "device": ctx.device.type, "clock": "grader"}


def _run_provider(spec, case, want, name, call, failed) -> float | None:
    try:
        out, dt = _timed(call, list(case.inputs.values()))
        _check_timed(spec, case, out, want)
        return dt
    except CheckFailure as err:
        if name == "learner":
            raise CheckFailure(f"a timed run gave a wrong answer (fresh inputs, case "
                               f"{case.name}): {err}") from None
        failed[name] = str(err).splitlines()[0]
    except Exception as err:  # noqa: BLE001 - e.g. a shipped backend missing here
        if name == "learner":
            raise
        failed[name] = f"{type(err).__name__}: {err}".splitlines()[0]
    return None


def _too_slow_check(dt: float | None, case, session) -> None:
    """After the first call: stop when MIN_ROUNDS more calls cannot fit the phase."""
    if dt is None:
        return
    left = session.deadline - time.monotonic()
    if dt * (MIN_ROUNDS + 1) > left:
        raise TooSlow(too_slow_message(dt, case.name, session.budget_s, took_more=False))


def too_slow_message(seconds: float, case: str, budget: float, took_more: bool) -> str:
    """The pass message of a correct solution whose calls are too slow to time."""
    took = f"took more than {seconds:.1f} s" if took_more else f"took {seconds:.1f} s"
    return (f"too slow to time: one call on the timing case {case} {took}, and the timing "
            f"phase has {budget:.0f} s for at least {MIN_ROUNDS + 1} calls. Correctness "
            "passed. Make the inner loops vectorized (whole-array operations instead of "
            "Python loops over elements) and check again, or use --no-time to skip timing.")


def time_custom(spec, learner: Any, ctx: CheckContext) -> dict[str, Any]:
    """Interleaved timings of `spec.time(impl, ctx)` for the learner's module (through its
    process) and `spec.shipped` (here; its calls pay no transfer, said in the providers)."""
    from hubkit.check import speed

    impls = {"learner": learner}
    if spec.shipped is not None:
        impls["shipped"] = spec.shipped
    rounds: dict[str, list[float]] = {k: [] for k in impls}
    start = time.perf_counter()
    for rnd in range(MAX_ROUNDS + 1):
        names = list(impls)[rnd % len(impls):] + list(impls)[:rnd % len(impls)]
        for name in names:
            _, dt = _timed(lambda a, impl=impls[name]: spec.time(impl, ctx), [])
            if rnd:
                rounds[name].append(dt)
        if rnd >= MIN_ROUNDS and (time.perf_counter() - start > BUDGET_S or (
                "shipped" in rounds and speed.enough(rounds, "shipped", "learner"))):
            break
    return {"rounds": rounds, "providers": {"learner": "your code (through the checker's "
                                            "channel)", "shipped": "hubkit's own, in-process"},
            "baseline": "shipped" if "shipped" in rounds else "learner", "subject": "learner",
            "case": "spec.time", "skipped": {}, "device": ctx.device.type, "clock": "grader"}


def _check_timed(spec: OpSpec, case, out: Any, want: Any) -> None:
    gots, wants = _as_tuple(out), _as_tuple(want)
    if len(gots) != len(wants):
        raise CheckFailure(f"expected {len(wants)} outputs, got {len(gots)}")
    for g, w in zip(gots, wants, strict=True):
        assert_close(g, w, dtype=out_dtype(spec, case) if w.is_floating_point() else w.dtype,
                     reduction=case.reduction, rtol=spec.rtol, condition=case.condition)
