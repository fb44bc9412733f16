"""Fair speed verdicts: a ratio with a confidence interval, from interleaved rounds.

The timing loop (hubkit.check.timing) runs every provider once per round, in a
rotated order, on the grader's clock. Each round gives one paired ratio

    r_i = t_subject_i / t_baseline_i          (> 1: the subject is slower)

and this module turns the N ratios into what a learner reads:

* the median ratio and a 95% confidence interval from a seeded bootstrap over
  the paired ratios (deterministic: the same rounds give the same interval);
* a verdict, "faster", "slower" or "indistinguishable", decided from the
  interval alone (never from one pair of medians);
* `busy`: the interval is too wide, or the machine's load is high for its
  cores, so the numbers may be noise (and the report says so);
* `suspicious`: the subject claims more bytes/s or FLOP/s than this machine's
  measured peaks allow (a cached answer, a forged clock);
* one sentence: "Your code takes 1.6x as long as torch's conv2d (95% CI 1.4-1.8x)".

Example:
    >>> rounds = {"ref": [1.0, 1.1, 0.9, 1.0, 1.05, 0.95],
    ...           "learner": [2.0, 2.2, 1.8, 2.0, 2.1, 1.9]}
    >>> out = summarize({"rounds": rounds, "baseline": "ref", "subject": "learner",
    ...                  "providers": {"ref": "torch's conv2d"}},
    ...                 machine={"cores": 4, "loadavg": [0.0, 0.0, 0.0]})
    >>> out["verdict"], round(out["ratio"], 2)
    ('slower', 2.0)
    >>> out["sentence"]
    "Your code takes 2.00x as long as torch's conv2d (95% CI 2.00-2.00x)"
"""

from __future__ import annotations

import functools
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

MIN_ROUNDS = 5          # never stop (or call a verdict "enough") with fewer paired rounds
TARGET_HALF_WIDTH = 0.10  # enough(): the CI's half-width is under 10% of the median ratio
BUSY_HALF_WIDTH = 0.25    # a CI wider than +-25% of the ratio: the numbers are mostly noise
BUSY_LOAD_PER_CORE = 1.0  # 1-minute load average above this many runnable tasks per core
PEAK_MARGIN = 2.0         # claims above 2x the measured peak are flagged (measurement slack)
N_BOOT = 2000
SEED = 0


def paired_ratios(rounds: dict[str, list[float]], baseline: str, subject: str) -> np.ndarray:
    """(N,) per-round ratios t_subject / t_baseline, over rounds where both ran.

    Raises:
        KeyError: `baseline` or `subject` has no rounds.
    """
    for name in (baseline, subject):
        if name not in rounds:
            raise KeyError(f"no timed rounds for provider {name!r}; have {sorted(rounds)}")
    n = min(len(rounds[baseline]), len(rounds[subject]))
    base = np.asarray(rounds[baseline][:n], dtype=np.float64)
    subj = np.asarray(rounds[subject][:n], dtype=np.float64)
    ok = (base > 0) & (subj > 0) & np.isfinite(base) & np.isfinite(subj)
    return subj[ok] / base[ok]


def ratio_ci(ratios: np.ndarray, level: float = 0.95, n_boot: int = N_BOOT,
             seed: int = SEED) -> tuple[float, float, float]:
    """(median, low, high): the median paired ratio and its bootstrap percentile interval.

    The bootstrap resamples rounds with replacement and takes the median of
    each resample, in log space (a ratio of 2 and of 1/2 are equally far from 1).
    """
    if len(ratios) == 0:
        raise ValueError("ratios is empty: no round timed both providers")
    logs = np.log(np.asarray(ratios, dtype=np.float64))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(logs), size=(n_boot, len(logs)))  # (n_boot, N)
    boot = np.median(logs[idx], axis=1)
    tail = (1.0 - level) / 2 * 100
    lo, hi = np.percentile(boot, [tail, 100 - tail])
    return float(np.exp(np.median(logs))), float(np.exp(lo)), float(np.exp(hi))


def half_width(ratio: float, lo: float, hi: float) -> float:
    """The CI's half-width relative to the ratio: (hi - lo) / (2 * ratio)."""
    return (hi - lo) / (2 * ratio)


def enough(rounds: dict[str, list[float]], baseline: str, subject: str,
           target: float = TARGET_HALF_WIDTH, min_rounds: int = MIN_ROUNDS) -> bool:
    """True once the paired ratio's 95% CI is narrow enough to stop timing.

    The timing loop calls this after each round and stops at True or when its
    time budget ends.

    Args:
        rounds: {provider: [seconds per round]} in round order.
        baseline, subject: the two providers compared (e.g. "reference", "learner").
        target: the relative half-width to reach.
        min_rounds: fewer paired rounds are never enough.
    """
    ratios = paired_ratios(rounds, baseline, subject)
    if len(ratios) < min_rounds:
        return False
    ratio, lo, hi = ratio_ci(ratios, n_boot=500)
    return half_width(ratio, lo, hi) < target


def verdict(lo: float, hi: float) -> str:
    """'slower' when the whole CI is above 1, 'faster' when below, else 'indistinguishable'."""
    if lo > 1.0:
        return "slower"
    if hi < 1.0:
        return "faster"
    return "indistinguishable"


def sentence(subject: str, other: str, ratio: float, lo: float, hi: float,
             word: str | None = None) -> str:
    """One line a learner reads, the direction spelled out.

    Example:
        >>> sentence("Your code", "torch's conv2d", 1.6, 1.4, 1.8)
        "Your code takes 1.60x as long as torch's conv2d (95% CI 1.40-1.80x)"
        >>> sentence("Your code", "torch's conv2d", 0.5, 0.4, 0.6)
        "Your code is 2.00x faster than torch's conv2d (95% CI 1.67-2.50x)"
    """
    word = word or verdict(lo, hi)
    if word == "faster":
        return (f"{subject} is {1 / ratio:.2f}x faster than {other} "
                f"(95% CI {1 / hi:.2f}-{1 / lo:.2f}x)")
    if word == "slower":
        return f"{subject} takes {ratio:.2f}x as long as {other} (95% CI {lo:.2f}-{hi:.2f}x)"
    why = "which includes 1" if lo <= 1.0 <= hi else "too few rounds to tell"
    return (f"{subject} and {other} cannot be told apart: {subject[0].lower() + subject[1:]} "
            f"takes {ratio:.2f}x as long (95% CI {lo:.2f}-{hi:.2f}x, {why})")


def load(machine: dict[str, Any] | None = None) -> dict[str, Any]:
    """{"loadavg": 1-minute load average, "cores": n}: from `machine` if it has them, else now."""
    machine = machine or {}
    avg = machine.get("loadavg")
    if avg is None and hasattr(os, "getloadavg"):
        avg = list(os.getloadavg())
    one = float(avg[0]) if isinstance(avg, (list, tuple)) else (float(avg) if avg else 0.0)
    return {"loadavg": one, "cores": int(machine.get("cores") or os.cpu_count() or 1)}


def _name(provider: str, descriptions: dict[str, str]) -> str:
    if provider in descriptions:
        return descriptions[provider]
    return "your code" if provider == "learner" else provider


def _subject_name(provider: str, descriptions: dict[str, str]) -> str:
    """How a sentence starts: "Your code" for the learner, else the description."""
    if provider == "learner":
        return "Your code"
    name = _name(provider, descriptions)
    return name[:1].upper() + name[1:]


def _compare(rounds: dict, subject: str, other: str, descriptions: dict,
             subject_name: str) -> dict[str, Any]:
    ratios = paired_ratios(rounds, other, subject)
    ratio, lo, hi = ratio_ci(ratios)
    # subtle: a handful of rounds gives a deceptively narrow interval; no verdict then
    word = verdict(lo, hi) if len(ratios) >= MIN_ROUNDS else "indistinguishable"
    return {"against": other, "description": _name(other, descriptions), "ratio": ratio,
            "ci": [lo, hi], "rounds": int(len(ratios)), "verdict": word,
            "half_width": half_width(ratio, lo, hi),
            "sentence": sentence(subject_name, _name(other, descriptions), ratio, lo, hi, word)}


def _providers(rounds: dict[str, list[float]], descriptions: dict) -> dict[str, Any]:
    out = {}
    for name, xs in rounds.items():
        if xs:
            q1, med, q3 = np.percentile(np.asarray(xs, dtype=np.float64), [25, 50, 75])
            out[name] = {"median_ms": float(1e3 * med), "iqr_ms": float(1e3 * (q3 - q1)),
                         "runs": len(xs),
                         "description": _name(name, descriptions)}
    return out


def is_new_shape(timings: dict | None) -> bool:
    """True for timings holding per-round times ({"rounds": {...}}), False for the old
    medians-only shape ({"providers": {name: {"median_ms": ...}}})."""
    return bool(timings) and isinstance(timings.get("rounds"), dict)


def summarize(timings: dict[str, Any], machine: dict[str, Any] | None = None,
              subject_name: str | None = None) -> dict[str, Any]:
    """The speed verdict of one timed check.

    Args:
        timings: {"rounds": {provider: [s per round]}, "providers": {provider:
            description}, "baseline": name, "subject": name, optional "bytes" and
            "flops" moved/done by one call of the subject}.
        machine: optional {"cores", "loadavg", "peaks": {"bytes_per_s", "flops_per_s"}};
            what is missing is read from this machine now.
        subject_name: how sentences name the subject (default "Your code" for the
            learner, e.g. "hubkit's solution" when grading the shipped answer).

    Returns:
        {"subject", "baseline", "ratio", "ci", "verdict", "sentence", "comparisons":
        [one per other provider, the baseline first], "providers": per-provider
        medians, "busy", "warnings", "load", "suspicious", "suspicious_why"}.
    """
    rounds = {k: list(v) for k, v in timings["rounds"].items()}
    subject, baseline = timings.get("subject", "learner"), timings["baseline"]
    descriptions = timings.get("providers") or {}
    # subtle: the baseline is the subject itself when no other provider could run
    others = [p for p in [baseline, *rounds] if p in rounds and p != subject and rounds[p]]
    subject_name = subject_name or _subject_name(subject, descriptions)
    comparisons = [_compare(rounds, subject, p, descriptions, subject_name)
                   for p in dict.fromkeys(others)
                   if subject in rounds and len(paired_ratios(rounds, p, subject))]
    out: dict[str, Any] = {"subject": subject, "baseline": baseline, "comparisons": comparisons,
                           "providers": _providers(rounds, descriptions),
                           "load": load(machine)}
    main = comparisons[0] if comparisons and comparisons[0]["against"] == baseline else None
    if main:
        out |= {k: main[k] for k in ("ratio", "ci", "verdict", "sentence", "half_width")}
    out |= _busy(main, out["load"])
    out |= _suspicious(timings, out["providers"].get(subject), machine)
    return out


def _busy(main: dict | None, load_: dict[str, Any]) -> dict[str, Any]:
    warnings = []
    if main and main["rounds"] < MIN_ROUNDS:
        warnings.append(f"only {main['rounds']} timed rounds: too few to tell (the timing "
                        "budget ran out; run again on a quieter machine)")
    elif main and main["half_width"] > BUSY_HALF_WIDTH:
        lo, hi = main["ci"]
        warnings.append(f"the timings are too noisy to tell: the 95% CI runs from {lo:.2f}x "
                        f"to {hi:.2f}x; rerun on a quieter machine")
    per_core = load_["loadavg"] / max(load_["cores"], 1)
    if per_core > BUSY_LOAD_PER_CORE:
        warnings.append(f"the machine is busy (load average {load_['loadavg']:.1f} on "
                        f"{load_['cores']} cores): other programs slow some rounds; "
                        "the interval may be wider than on a quiet machine")
    return {"busy": bool(warnings), "warnings": warnings}


def _suspicious(timings: dict, subject: dict | None, machine: dict | None) -> dict[str, Any]:
    claims = {"bytes": timings.get("bytes"), "flops": timings.get("flops")}
    if subject is None or not any(claims.values()):
        return {"suspicious": False, "suspicious_why": ""}
    peaks = (machine or {}).get("peaks") or measured_peaks(timings.get("device", "cpu"))
    seconds = subject["median_ms"] / 1e3
    why = []
    for what, key, unit in (("bytes", "bytes_per_s", "GB/s"), ("flops", "flops_per_s", "GFLOP/s")):
        if claims[what] and peaks.get(key):
            rate, peak = claims[what] / seconds, peaks[key]
            if rate > PEAK_MARGIN * peak:
                why.append(f"{rate / 1e9:.0f} {unit} claimed, but this machine peaks near "
                           f"{peak / 1e9:.0f} {unit}")
    text = ("implausibly fast: " + "; ".join(why) + " (a cached answer or a forged clock?)"
            if why else "")
    return {"suspicious": bool(why), "suspicious_why": text, "peaks": peaks}


# ---------------------------------------------------------------- machine peaks

def _cache_file() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(root) / "hubkit" / "peaks.json"


def _machine_key(device: str) -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    return f"{device}|{cpu}|{os.cpu_count()}"


def _best(fn, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure_cpu_peaks(copy_mib: int = 64, matmul_n: int = 512) -> dict[str, float]:
    """Memory bandwidth (the best of a cache-sized and a DRAM-sized copy, bytes read plus
    written) and float32 matmul FLOP/s on this CPU, measured now."""
    rates = []
    for mib in (1, copy_mib):
        src = np.ones(mib * 2**20 // 4, dtype=np.float32)
        dst = np.empty_like(src)
        rates.append(2 * src.nbytes / _best(lambda s=src, d=dst: np.copyto(d, s)))
    a = np.ones((matmul_n, matmul_n), dtype=np.float32)
    flops = 2 * matmul_n**3 / _best(lambda: a @ a)
    return {"bytes_per_s": max(rates), "flops_per_s": flops}


def measure_cuda_peaks(copy_mib: int = 256, matmul_n: int = 4096) -> dict[str, float]:
    """Device-to-device copy bandwidth and float32 matmul FLOP/s on the current GPU."""
    import torch

    def timed(fn) -> float:
        fn()
        torch.cuda.synchronize()
        return _best(lambda: (fn(), torch.cuda.synchronize()))

    src = torch.ones(copy_mib * 2**20 // 4, device="cuda")
    dst = torch.empty_like(src)
    bw = 2 * src.numel() * 4 / timed(lambda: dst.copy_(src))
    a = torch.ones(matmul_n, matmul_n, device="cuda")
    # subtle: TF32 may be on in this process; a peak measured with it is the higher
    # one, which is the conservative choice here (fewer false alarms).
    return {"bytes_per_s": bw, "flops_per_s": 2 * matmul_n**3 / timed(lambda: a @ a)}


@functools.cache
def measured_peaks(device: str = "cpu", cache: str | None = None) -> dict[str, float]:
    """This machine's peaks for `device` ("cpu" or "cuda"), measured once and cached in
    ~/.cache/hubkit/peaks.json (or `cache`)."""
    path = Path(cache) if cache else _cache_file()
    key = _machine_key(device)
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    if key in stored:
        return stored[key]
    peaks = measure_cuda_peaks() if device.startswith("cuda") else measure_cpu_peaks()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stored | {key: peaks}, indent=2))
    except OSError:
        pass  # a read-only home: measure again next time
    return peaks
