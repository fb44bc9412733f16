"""Where a measured number came from: command, machine, load, commit, and what really ran.

Every file under `benchmarks/results/` carries a `provenance` record built here:

* `command`: the exact command line (and working directory);
* `machine`: CPU model, cores, OS, memory, torch and its thread count;
* `load`: `os.getloadavg()` before and after, and the share of all CPU time that
  *other* processes used while the measurement ran (from /proc/stat, minus this
  process and its children), with the busiest of them by name;
* `git`: commit, dirty flag and the dirty source paths;
* per benchmark, `ran`: the torch ops that one call dispatched (`trace_ops`),
  with the backend of every hubkit op, so a provider's name can be checked.

pytest-benchmark files get it from `benchmarks/conftest.py`. Any other command
(a training run that writes a table and a plot) is wrapped:

    python benchmarks/provenance.py --out benchmarks/results/NAME -- python -m ...

which runs the command and then stamps every new file in `--out`: a
`provenance` key in JSON objects, a section at the end of Markdown, text chunks
in PNG, a `<file>.provenance.json` beside anything else, and the folder's own
`provenance.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PATHS = ("python", "csrc", "kernels", "benchmarks", "CMakeLists.txt", "pyproject.toml")
# Above this share of the machine used by other processes, timings are noise.
BUSY_SHARE = 0.25


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (platform.processor() is often empty)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict:
    """CPU, cores, OS, memory, and the thread settings a measurement depends on."""
    info = {"cpu_model": cpu_model(), "logical_cores": os.cpu_count(),
            "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "os": platform.platform(), "python": platform.python_version(),
            "nice": os.nice(0) if hasattr(os, "nice") else None,
            "env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                               "TRITON_INTERPRET", "CUDA_VISIBLE_DEVICES")
                    if k in os.environ}}
    try:
        kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                      if line.startswith("MemTotal")))
        info["memory_gib"] = round(kb / 2**20, 1)
    except (OSError, StopIteration):
        pass
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def command() -> dict:
    """The command line that is running, as one shell-quoted string, and where."""
    argv = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]
    return {"command": shlex.join(argv), "cwd": os.getcwd()}


def git() -> dict:
    """Commit, dirty flag and the dirty source paths of the checkout."""
    def run(*args: str) -> str:
        # subtle: no strip(): a porcelain line starts with a space (" M path") that must stay
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30).stdout.rstrip("\n")
    try:
        dirty = run("status", "--porcelain", "--", *SOURCE_PATHS).splitlines()
        return {"commit": run("rev-parse", "HEAD"), "dirty": bool(dirty),
                "dirty_source_paths": [line[3:] for line in dirty][:50]}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None, "dirty_source_paths": []}


def _busy_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot, or None off Linux."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


def _processes() -> dict[int, tuple[str, int, int]]:
    """{pid: (name, parent pid, CPU jiffies so far)} for every process we may read."""
    out = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        rest = text[text.rindex(")") + 2:].split()
        out[int(entry.name)] = (name, int(rest[1]), int(rest[11]) + int(rest[12]))
    return out


def _own_cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Snapshot:
    """The machine's load at one moment; `load_since` compares two."""

    wall: float = field(default_factory=time.monotonic)
    utc: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc)
                     .isoformat(timespec="seconds"))
    loadavg: tuple[float, float, float] = field(default_factory=lambda: tuple(
        round(x, 2) for x in os.getloadavg()))
    ticks: tuple[int, int] | None = field(default_factory=_busy_ticks)
    own_cpu: float = field(default_factory=_own_cpu_seconds)
    processes: dict | None = None

    @classmethod
    def take(cls, per_process: bool = False) -> Snapshot:
        snap = cls()
        if per_process:
            snap.processes = _processes()
        return snap


def _descendants(procs: dict, root: int) -> set[int]:
    out, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        kids = [pid for pid, (_, ppid, _) in procs.items() if ppid == parent and pid not in out]
        out.update(kids)
        frontier.extend(kids)
    return out


def _busiest_others(start: dict, end: dict, seconds: float, top: int = 5) -> list[dict]:
    """The other processes that used the most CPU between two snapshots, share of one core."""
    hz = os.sysconf("SC_CLK_TCK")
    mine = _descendants(end, os.getpid())
    used = {}
    for pid, (name, _, ticks) in end.items():
        if pid not in mine:
            used[pid] = (name, ticks - start.get(pid, (name, 0, 0))[2])
    ranked = sorted(used.values(), key=lambda nt: -nt[1])[:top]
    return [{"name": name, "cores": round(t / hz / seconds, 2)} for name, t in ranked if t > 0]


def load_since(start: Snapshot, per_process: bool = False) -> dict:
    """Load average before/after and other processes' share of all CPU time since `start`."""
    end = Snapshot.take(per_process and start.processes is not None)
    seconds = max(end.wall - start.wall, 1e-9)
    out = {"started_utc": start.utc, "finished_utc": end.utc, "seconds": round(seconds, 2),
           "loadavg_before": start.loadavg, "loadavg_after": end.loadavg}
    if start.ticks and end.ticks:
        hz, cores = os.sysconf("SC_CLK_TCK"), os.cpu_count() or 1
        busy = (end.ticks[0] - start.ticks[0]) / hz  # CPU-seconds, every process
        own = end.own_cpu - start.own_cpu
        share = max(0.0, busy - own) / (seconds * cores)
        out["other_processes_cpu_share"] = round(share, 3)
        out["this_run_cpu_share"] = round(own / (seconds * cores), 3)
        out["quiet"] = share < BUSY_SHARE
    if end.processes is not None and start.processes is not None:
        out["busiest_other_processes"] = _busiest_others(start.processes, end.processes,
                                                         seconds)
    return out


def record(start: Snapshot) -> dict:
    """The whole provenance record of a run that began at `start`."""
    return {**command(), "machine": machine(), "load": load_since(start, per_process=True),
            "git": git()}


# ----------------------------------------------------------------------------- what ran


def trace_ops(fn) -> list[str]:
    """The distinct torch ops one call of `fn` dispatches, e.g. 'hubkit::lora_linear[reference]'.

    hubkit ops take their backend as the last argument, so it is shown in brackets:
    that is what the op really ran, whatever the provider is called.
    """
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Trace(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.ops: set[str] = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            name = func.name()
            if name.startswith("hubkit::") and args and isinstance(args[-1], str):
                name += f"[{args[-1]}]"
            self.ops.add(name)
            return func(*args, **(kwargs or {}))

    with _Trace() as trace:
        fn()
    return sorted(trace.ops)


# ----------------------------------------------------------------------------- stamping files


def stamp(path: Path, info: dict) -> Path:
    """Write `info` into `path` (JSON key, Markdown section, PNG text) or beside it."""
    if path.suffix == ".json":
        data = json.loads(path.read_text())
        if isinstance(data, dict):
            data["provenance"] = info
            path.write_text(json.dumps(data, indent=2) + "\n")
            return path
    if path.suffix == ".md":
        with path.open("a") as f:
            f.write("\n## Provenance\n\n```json\n" + json.dumps(info, indent=1) + "\n```\n")
        return path
    if path.suffix == ".png":
        from PIL import Image, PngImagePlugin

        meta = PngImagePlugin.PngInfo()
        meta.add_text("provenance", json.dumps(info))
        with Image.open(path) as image:
            image.load()
            image.save(path, pnginfo=meta)
        return path
    side = path.with_name(path.name + ".provenance.json")
    side.write_text(json.dumps(info, indent=2) + "\n")
    return side


def main(argv: list[str] | None = None) -> int:
    """Run a command and stamp every file it created or changed under --out."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True, help="folder the command writes into")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- then the command")
    args = p.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        p.error("cmd: give the command after --")
    before = {f: f.stat().st_mtime for f in args.out.rglob("*")} if args.out.exists() else {}
    start = Snapshot.take(per_process=True)
    code = subprocess.run(cmd).returncode
    info = {**record(start), "command": shlex.join(cmd), "exit_code": code}
    for f in sorted(args.out.rglob("*")) if args.out.exists() else []:
        if f.is_file() and before.get(f) != f.stat().st_mtime:
            print(f"stamped {stamp(f, info)}")
    if args.out.is_dir():  # the run folder's own record, which the provenance test reads
        (args.out / "provenance.json").write_text(json.dumps(info, indent=2) + "\n")
        print(f"wrote {args.out / 'provenance.json'}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
