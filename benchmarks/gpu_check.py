"""Run every GPU check and benchmark, and write one JSON report.

Each track adds its GPU work by dropping `benchmarks/gpu/<op>.py` with
`PYTEST_ARGS = [...]` (benchmark files, `-k` filters). This script runs the
`gpu`-marked tests, then those benchmarks, and writes
`benchmarks/results/gpu-<device>-<date>.json` with the device, driver,
versions, every test's outcome, each benchmark's median, TFLOP/s and share of
the device's dense peak, ratios against the other providers in its group, what
each provider ran (`extra_info.ran`), and the run's provenance.

`--dry-run` proves the plumbing on a CPU machine: it collects every GPU test
and benchmark (no test runs) and writes the same JSON with
`"skipped": "no device"` for each entry. Both modes run pytest with mujoco and
gymnasium blocked and outbound sockets refused, as on the GPU image, and list
any blocked import that was attempted under `blocked_imports`.

Usage: python benchmarks/gpu_check.py [--dry-run] [--out DIR] [--copy-to DIR] [--budget S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(ROOT))
from benchmarks import provenance  # noqa: E402

# Not in the GPU machine's image: nothing the check runs may import them.
BLOCKED = ("mujoco", "gymnasium")
NO_DEVICE = "no device"
# subtle: test modules that import gymnasium at the top fail to import on the GPU image;
# without this flag one such module interrupts the session and no GPU test runs at all.
TEST_ARGS = ["-m", "gpu", "tests", "--continue-on-collection-errors"]
# Dense (no sparsity) tensor-core peaks in TFLOP/s from NVIDIA's datasheets; float32 is
# the non-tensor FMA peak (torch keeps fp32 matmuls in IEEE fp32 unless TF32 is allowed).
# subtle: "H100" must be matched after "H100 PCIe" and "H200" before "H100" can't clash.
PEAK_TFLOPS = {
    "A100": {"bfloat16": 312.0, "float16": 312.0, "tfloat32": 156.0, "float32": 19.5},
    "H100 PCIe": {"bfloat16": 756.0, "float16": 756.0, "tfloat32": 378.0, "float32": 51.0},
    "H100": {"bfloat16": 989.4, "float16": 989.4, "tfloat32": 494.7, "float32": 66.9},
    "H200": {"bfloat16": 989.4, "float16": 989.4, "tfloat32": 494.7, "float32": 66.9},
}

# Runs pytest in a child with BLOCKED imports refused (each attempt logged to the file
# named by HUBKIT_BLOCK_LOG) and sockets unable to connect: the GPU image has neither.
_BOOT = r"""
import importlib.abc, os, socket, sys
BLOCKED = set(os.environ["HUBKIT_BLOCKED"].split(","))
LOG = os.environ["HUBKIT_BLOCK_LOG"]
class _Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            with open(LOG, "a") as f:
                f.write(name + "\n")
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: not on the GPU image)",
                                      name=name)
        return None
sys.meta_path.insert(0, _Block())
def _no_network(self, address):
    raise OSError(f"network blocked during the GPU check: connect to {address!r}")
socket.socket.connect = _no_network
import pytest
sys.exit(pytest.main(sys.argv[1:]))
"""


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
            "memory_gib": round(props.total_memory / 2**30, 1), "driver": driver,
            "peak_tflops": peak_table(props.name)}


def peak_table(device_name: str | None) -> dict | None:
    """The dense peak TFLOP/s per dtype of a device, by name ('NVIDIA H200' -> H200's)."""
    for key in sorted(PEAK_TFLOPS, key=len, reverse=True):  # longest name first
        if device_name and key.lower() in device_name.lower():
            return PEAK_TFLOPS[key]
    return None


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


def _blocked_env(log: Path) -> dict:
    return {**os.environ, "HUBKIT_BLOCKED": ",".join(BLOCKED), "HUBKIT_BLOCK_LOG": str(log),
            "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _pytest(args: list[str], timeout: float, log: Path) -> tuple[dict, str]:
    """Run pytest (blocked imports, no network): its record (exit code, counts, tail), output."""
    start = time.perf_counter()
    cmd = [sys.executable, "-c", _BOOT, "-q", "-p", "no:cacheprovider", *args]
    try:
        res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                             env=_blocked_env(log))
        text, code = res.stdout + res.stderr, res.returncode
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
        text, code = out + f"\n[timed out after {timeout:.0f}s]", -1
    tail = text[-6000:]
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|skipped|error)", tail)}
    print(tail[-2500:], flush=True)
    return {"exit_code": code, "seconds": round(time.perf_counter() - start, 1),
            "counts": counts, "output_tail": tail[-3000:]}, text


def _collected(args: list[str], log: Path) -> tuple[list[str], dict]:
    """The node ids pytest collects for `args` (nothing runs), and the run record."""
    run, text = _pytest(["--collect-only", *args], timeout=600, log=log)
    ids = [line for line in text.splitlines() if "::" in line
           and line.startswith(("tests/", "benchmarks/"))]
    run["collection_errors"] = _collection_errors(text)
    if not ids:
        run["error"] = "nothing collected"
    return ids, run


def _collection_errors(text: str) -> list[str]:
    """'ERROR path' lines of pytest's summary: modules that failed to import."""
    return sorted({line.split()[1] for line in text.splitlines()
                   if line.startswith("ERROR ") and len(line.split()) > 1})


def _junit_outcomes(path: Path) -> list[dict]:
    """Each test case's node id and outcome from a pytest JUnit XML file."""
    if not path.exists():
        return []
    out = []
    for case in ET.parse(path).getroot().iter("testcase"):
        node = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        status = {"outcome": "passed"}
        for tag in ("failure", "error", "skipped"):
            found = case.find(tag)
            if found is not None:
                status = {"outcome": "failed" if tag == "failure" else tag,
                          "message": (found.get("message") or "")[:300]}
        out.append({"nodeid": node, **status})
    return out


def _flops(row: dict) -> float | None:
    """Useful FLOPs of one benchmark call from its parameters; None when memory-bound."""
    params, name = row.get("params") or {}, row["name"]
    backward = "backward" in name or params.get("mode") == "fwd+bwd"
    if name.startswith("test_conv2d") and params.get("shape"):
        from benchmarks.bench_conv2d import SHAPES

        n, c, k, h, w, r, s, stride, pad = SHAPES[params["shape"]]
        ho, wo = (h + 2 * pad - r) // stride + 1, (w + 2 * pad - s) // stride + 1
        return 2.0 * n * k * ho * wo * c * r * s * (3 if backward else 1)
    if name.startswith("test_lora") and params.get("shape"):
        m, k, n, rank = params["shape"]  # x (M, K) @ W^T (K, N) + (x @ A^T) @ B^T, rank r
        return 2.0 * m * (k * n + k * rank + rank * n) * (3 if backward else 1)
    if name.startswith("test_linear_cross_entropy_forward") and params.get("shape"):
        n, v, d = params["shape"]  # logits (N, V) = h (N, D) @ W^T, then dh and dW
        return 6.0 * n * v * d
    return None


def _rate(row: dict, peaks: dict | None) -> dict:
    """TFLOP/s and the share of the device's dense peak for the row's dtype."""
    tflops = row["extra_info"].get("tflops")
    flops = _flops(row)
    if tflops is None and flops is not None and row["median_ms"]:
        tflops = round(flops / (row["median_ms"] * 1e-3) / 1e12, 2)
    dtype = (row.get("params") or {}).get("dtype") or "bfloat16"
    peak = (peaks or {}).get(str(dtype).replace("torch.", ""))
    return {"tflops": tflops, "peak_dtype": dtype, "peak_tflops": peak,
            "fraction_of_peak": round(tflops / peak, 3) if tflops and peak else None}


def _benchmarks(raw: dict, peaks: dict | None) -> list[dict]:
    rows = [{"group": b.get("group"), "name": b["name"], "params": b.get("params"),
             "provider": b.get("extra_info", {}).get("provider"),
             "median_ms": b["stats"]["median"] * 1e3, "iqr_ms": b["stats"]["iqr"] * 1e3,
             "rounds": b["stats"]["rounds"], "extra_info": b.get("extra_info", {})}
            for b in raw.get("benchmarks", [])]
    for row in rows:  # speedup of this row over every other provider in its group
        peers = [r for r in rows if r["group"] == row["group"] and r is not row]
        row["speedup_vs"] = {p["provider"] or p["name"]: round(p["median_ms"] / row["median_ms"], 3)
                             for p in peers if row["median_ms"] > 0}
        row.update(_rate(row, peaks))
    return rows


def _dry_run(report: dict, extra: list[str], log: Path) -> None:
    """Collect every GPU test and benchmark; mark each skipped for want of a device."""
    ids, run = _collected([*TEST_ARGS, *extra], log)
    report["gpu_tests"] = {**run, "tests": [{"nodeid": i, "skipped": NO_DEVICE} for i in ids]}
    report["gpu_bench_runs"], report["benchmarks"] = [], []
    for args in _merged(_gpu_bench_args()):
        ids, run = _collected(args, log)
        if any(not any(i.startswith(a + "::") for i in ids) for a in args if a.endswith(".py")):
            run["error"] = "a benchmark file collected nothing"
        report["gpu_bench_runs"].append({"args": args, **run, "skipped": NO_DEVICE})
        report["benchmarks"] += [{"name": i, "group": None, "provider": None, "median_ms": None,
                                  "tflops": None, "fraction_of_peak": None,
                                  "skipped": NO_DEVICE} for i in ids]


def _merged(runs: list[list[str]]) -> list[list[str]]:
    """Runs with the same options collected in one pytest process (one torch import)."""
    groups: dict[tuple, list[str]] = {}
    for args in runs:
        opts = tuple(a for a in args if not a.endswith(".py"))
        groups.setdefault(opts, []).extend(a for a in args if a.endswith(".py"))
    return [[*files, *opts] for opts, files in groups.items()]


def _real_run(report: dict, extra: list[str], log: Path, budget: float, start: float) -> None:
    """Run the GPU tests, then each track's benchmarks while the time budget lasts."""
    with tempfile.TemporaryDirectory() as tmp:
        junit = Path(tmp) / "junit.xml"
        run, text = _pytest([*TEST_ARGS, f"--junitxml={junit}", *extra],
                            timeout=budget * 0.4, log=log)
        report["gpu_tests"] = {**run, "tests": _junit_outcomes(junit),
                               "collection_errors": _collection_errors(text)}
    report["gpu_bench_runs"], report["benchmarks"] = [], []
    peaks = report["device"].get("peak_tflops")
    for args in _gpu_bench_args():
        left = budget - (time.perf_counter() - start)
        if left < 20:
            report["gpu_bench_runs"].append({"args": args, "skipped": "time budget spent"})
            continue
        with tempfile.TemporaryDirectory() as tmp:
            raw_path = Path(tmp) / "bench.json"
            run, _ = _pytest([*args, "--benchmark-only", "--benchmark-max-time=0.5",
                              f"--benchmark-json={raw_path}"], timeout=left - 10, log=log)
            raw = json.loads(raw_path.read_text()) if raw_path.exists() else {}
        load = raw.get("machine_info", {}).get("load")
        report["gpu_bench_runs"].append({"args": args, **run, "load": load})
        report["benchmarks"] += _benchmarks(raw, peaks)


def _write(report: dict, out_dir: Path, dry_run: bool) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", report["device"].get("name") or "no-gpu").strip("-")
    name = f"gpu-{'dry-run-' if dry_run else ''}{slug}-{report['date'][:10]}.json"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / name).write_text(json.dumps(report, indent=2) + "\n")
    return out_dir / name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="collect only, no device needed: every entry 'skipped: no device'")
    parser.add_argument("--out", type=Path, help="folder for the JSON (default: "
                        "benchmarks/results, or a temporary folder with --dry-run)")
    parser.add_argument("--copy-to", type=Path, help="also copy the JSON report here")
    parser.add_argument("--budget", type=float, default=420.0, help="seconds for everything")
    opts, extra = parser.parse_known_args(argv)
    start = time.perf_counter()
    snapshot = provenance.Snapshot.take(per_process=True)
    report = {"date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "dry_run": opts.dry_run, "device": _device(), "versions": _versions()}
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "blocked.txt"
        if opts.dry_run:
            _dry_run(report, extra, log)
        else:
            _real_run(report, extra, log, opts.budget, start)
        report["blocked_imports"] = sorted(set(log.read_text().split())) if log.exists() else []
    report["provenance"] = provenance.record(snapshot)
    default = Path(tempfile.gettempdir()) / "hubkit-gpu-check" if opts.dry_run else \
        ROOT / "benchmarks" / "results"
    out = _write(report, opts.out or default, opts.dry_run)
    if opts.copy_to:
        opts.copy_to.mkdir(parents=True, exist_ok=True)
        shutil.copy(out, opts.copy_to / out.name)
    print(f"wrote {out} in {time.perf_counter() - start:.0f}s", flush=True)
    return _exit_code(report)


def _exit_code(report: dict) -> int:
    """1 when a test failed or pytest failed; in a dry run, when a track collected nothing."""
    runs = [report["gpu_tests"], *report["gpu_bench_runs"]]
    if report["dry_run"]:
        return 1 if any(r.get("error") for r in runs) else 0
    tests = report["gpu_tests"]
    # subtle: modules without GPU tests that import gymnasium fail to import on the GPU
    # image (pytest then exits 1); only the GPU tests' own outcomes decide.
    broken = set(tests.get("collection_errors", []))
    bad = [t for t in tests["tests"] if t.get("outcome") in ("failed", "error")
           and t["nodeid"].split("::")[0] not in broken]
    if bad or tests["counts"].get("failed", 0) or tests["exit_code"] not in (0, 1, 5):
        return 1
    return 1 if tests["exit_code"] == 1 and not broken else 0


if __name__ == "__main__":
    raise SystemExit(main())
