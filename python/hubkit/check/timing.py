"""Timing the reference, the learner's code and hubkit's shipped op, fairly.

* interleaved: each round runs every provider once, in a rotated order, so a
  machine that slows down (thermal, a noisy neighbour) hurts all of them alike;
* fresh inputs every round, and every timed output is re-checked against the
  float64 reference (a fast wrong answer is a failure, not a speedup);
* CUDA synchronized around each call; TF32 off; the thread count pinned and
  recorded with a description of the machine;
* medians and the interquartile spread are reported, never a single run.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from hubkit.check.compare import assert_close
from hubkit.check.correctness import _as_tuple, out_dtype, reference64
from hubkit.check.spec import CheckContext, CheckFailure, OpSpec

MIN_ROUNDS, MAX_ROUNDS, BUDGET_S = 5, 31, 1.5


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
            "os": f"{platform.system()} {platform.release()}"}


def describe(m: dict[str, Any]) -> str:
    """One line: 'AMD EPYC ... (2 cores, 2 threads), no GPU, torch 2.x'."""
    gpu = m.get("gpu") or "no GPU"
    return f"{m['cpu']} ({m['cores']} cores, {m['threads']} threads), {gpu}, torch {m['torch']}"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn: Callable[..., Any], args: list, device: torch.device) -> tuple[Any, float]:
    _sync(device)
    t0 = time.perf_counter()
    out = fn(*args)
    _sync(device)
    return out, time.perf_counter() - t0


def time_op(spec: OpSpec, learner_fn: Callable[..., Any], ctx: CheckContext) -> dict[str, Any]:
    """Interleaved timings of reference / learner / shipped.

    Raises:
        CheckFailure: a timed output of the learner's code is wrong.
    """
    providers = {"reference": spec.reference, "learner": learner_fn}
    if spec.shipped is not None:
        providers["shipped"] = spec.shipped
    samples: dict[str, list[float]] = {k: [] for k in providers}
    failed: dict[str, str] = {}
    start = time.perf_counter()
    for rnd in range(MAX_ROUNDS + 1):  # round 0 warms up and is not recorded
        case = spec.bench(ctx) if spec.bench is not None else spec.cases(ctx)[-1]
        _, want = reference64(spec, case)
        args = list(case.inputs.values())
        names = list(providers)
        names = names[rnd % len(names):] + names[:rnd % len(names)]
        for name in names:
            if name in failed:
                continue
            try:
                out, dt = _timed(providers[name], args, ctx.device)
                _check_timed(spec, case, out, want)
            except CheckFailure as err:
                if name == "learner":
                    raise CheckFailure(f"a timed run gave a wrong answer: {err}") from None
                failed[name] = str(err).splitlines()[0]
                continue
            except Exception as err:  # noqa: BLE001 - e.g. a shipped backend missing here
                if name == "learner":
                    raise
                failed[name] = f"{type(err).__name__}: {err}".splitlines()[0]
                continue
            if rnd:
                samples[name].append(dt)
        if rnd >= MIN_ROUNDS and time.perf_counter() - start > BUDGET_S:
            break
    return _summary(samples, failed, case)


def time_custom(spec, learner: Any, ctx: CheckContext) -> dict[str, Any]:
    """Interleaved timings of `spec.time(impl, ctx)` for the learner's module and `spec.shipped`."""
    impls = {"learner": learner}
    if spec.shipped is not None:
        impls["shipped"] = spec.shipped
    samples: dict[str, list[float]] = {k: [] for k in impls}
    start = time.perf_counter()
    for rnd in range(MAX_ROUNDS + 1):
        names = list(impls)[rnd % len(impls):] + list(impls)[:rnd % len(impls)]
        for name in names:
            _, dt = _timed(lambda impl=impls[name]: spec.time(impl, ctx), [], ctx.device)
            if rnd:
                samples[name].append(dt)
        if rnd >= MIN_ROUNDS and time.perf_counter() - start > BUDGET_S:
            break
    out = _summary(samples, {}, _Named("spec.time"))
    shipped, mine = out["providers"].get("shipped"), out["providers"].get("learner")
    if shipped and mine:
        out["speedup_vs_shipped"] = shipped["median_ms"] / mine["median_ms"]
    return out


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


def _check_timed(spec: OpSpec, case, out: Any, want: Any) -> None:
    for g, w in zip(_as_tuple(out), _as_tuple(want), strict=False):
        assert_close(g, w, dtype=out_dtype(spec, case) if w.is_floating_point() else w.dtype,
                     reduction=case.reduction, rtol=spec.rtol, condition=case.condition)


def _summary(samples: dict[str, list[float]], failed: dict[str, str], case) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for name, xs in samples.items():
        if len(xs) >= 2:
            q = statistics.quantiles(xs, n=4)
            stats[name] = {"median_ms": 1e3 * statistics.median(xs), "iqr_ms": 1e3 * (q[2] - q[0]),
                           "runs": len(xs)}
    out: dict[str, Any] = {"providers": stats, "case": case.name, "skipped": failed}
    learner = stats.get("learner", {}).get("median_ms")
    for other in ("reference", "shipped"):
        if learner and other in stats:
            out[f"speedup_vs_{other}"] = stats[other]["median_ms"] / learner
    return out
