"""Run every GPU check and benchmark, and write one JSON report.

Each track adds its GPU work by dropping `benchmarks/gpu/<op>.py` with
`PYTEST_ARGS = [...]` (benchmark files, `-k` filters). This script runs the
`gpu`-marked tests, then those benchmarks, and writes
`benchmarks/results/gpu-<device>-<date>.json` with the device, driver,
versions, test counts, each benchmark's median and ratios against the other
providers in its group, what each provider ran (`extra_info.ran`), and the
run's provenance (command, machine, load, commit).

Usage: python benchmarks/gpu_check.py [--copy-to DIR] [--budget SECONDS]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))
from benchmarks import provenance  # noqa: E402


def _versions() -> dict:
    import torch

    out = {"python": sys.version.split()[0], "torch": torch.__version__,
           "cuda": torch.version.cuda}
    for name in ("triton", "hubkit", "numpy"):
        try:
            out[name] = __import__(name).__version__
        except ImportError:
            out[name] = None
    return out


def _device() -> dict:
    import torch

    if not torch.cuda.is_available():
        return {"name": None, "note": "no CUDA device: GPU tests skip, GPU benchmarks skip"}
    props = torch.cuda.get_device_properties(0)
    smi = shutil.which("nvidia-smi")
    driver = None
    if smi:
        res = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True)
        driver = res.stdout.strip() or None
    return {"name": props.name, "capability": f"{props.major}.{props.minor}",
            "memory_gib": round(props.total_memory / 2**30, 1), "driver": driver}


def _gpu_bench_args() -> list[list[str]]:
    """One pytest argument list per track file (their -k filters must not mix)."""
    runs: list[list[str]] = []
    for path in sorted((ROOT / "benchmarks" / "gpu").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"gpu_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        if getattr(mod, "PYTEST_ARGS", None):
            runs.append(list(mod.PYTEST_ARGS))
    return runs


def _pytest(args: list[str], timeout: float) -> dict:
    start = time.perf_counter()
    try:
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        tail, code = (res.stdout + res.stderr)[-6000:], res.returncode
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        tail, code = out[-6000:] + f"\n[timed out after {timeout:.0f}s]", -1
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|error)", tail)}
    print(tail[-2500:], flush=True)
    return {"exit_code": code, "seconds": round(time.perf_counter() - start, 1),
            "counts": counts, "output_tail": tail[-3000:]}


def _benchmarks(raw: dict) -> list[dict]:
    rows = [{"group": b.get("group"), "name": b["name"],
             "provider": b.get("extra_info", {}).get("provider"),
             "median_ms": b["stats"]["median"] * 1e3, "iqr_ms": b["stats"]["iqr"] * 1e3,
             "rounds": b["stats"]["rounds"], "extra_info": b.get("extra_info", {})}
            for b in raw.get("benchmarks", [])]
    for row in rows:  # speedup of this row over every other provider in its group
        peers = [r for r in rows if r["group"] == row["group"] and r is not row]
        row["speedup_vs"] = {p["provider"] or p["name"]: round(p["median_ms"] / row["median_ms"], 3)
                             for p in peers if row["median_ms"] > 0}
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copy-to", type=Path, help="also copy the JSON report here")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for everything")
    opts, extra = parser.parse_known_args()
    start = time.perf_counter()
    snapshot = provenance.Snapshot.take(per_process=True)
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "device": _device(), "versions": _versions()}
    report["gpu_tests"] = _pytest(["-m", "gpu", "tests", *extra], timeout=opts.budget * 0.4)
    report["gpu_bench_runs"], rows = [], []
    for args in _gpu_bench_args():
        left = opts.budget - (time.perf_counter() - start)
        if left < 20:
            report["gpu_bench_runs"].append({"args": args, "skipped": "time budget spent"})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            raw_path = Path(tmp) / "bench.json"
            run = _pytest([*args, "--benchmark-only", "--benchmark-max-time=0.5",
                           f"--benchmark-json={raw_path}"], timeout=left - 10)
            raw = json.loads(raw_path.read_text()) if raw_path.exists() else {}
        load = raw.get("machine_info", {}).get("load")
        report["gpu_bench_runs"].append({"args": args, **run, "load": load})
        rows += _benchmarks(raw)
    report["benchmarks"] = rows
    report["provenance"] = provenance.record(snapshot)
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report["device"].get("name") or "no-gpu").strip("-")
    out = ROOT / "benchmarks" / "results" / f"gpu-{slug}-{report['date'][:10]}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    if opts.copy_to:
        opts.copy_to.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, opts.copy_to / out.name)
    print(f"wrote {out} in {time.perf_counter() - start:.0f}s", flush=True)
    failed = report["gpu_tests"]["counts"].get("failed", 0)
    return 1 if failed or report["gpu_tests"]["exit_code"] not in (0, 5) else 0


if __name__ == "__main__":
    raise SystemExit(main())
