"""Shared setup for hubkit's pytest-benchmark files: like-for-like settings and provenance.

Every benchmark runs with TF32 off and a recorded thread count, so a ratio
measured here compares like with like. Providers of one op at one shape share
a `benchmark.group`; `record(...)` stores provider, backend and device in the
JSON so `benchmarks/gpu_check.py` and readers can compute ratios per group.

Every JSON written with `--benchmark-json` also records where its numbers came
from (`benchmarks/provenance.py`): the command, the machine, its load before and
after and the CPU share other processes took meanwhile (for the whole run in
`machine_info["load"]`, for each benchmark in `extra_info["load"]`), the commit
with its dirty source paths, and per benchmark the ops one call really ran
(`extra_info["ran"]`). A run on a busy machine says so (`"quiet": false`).
"""

from __future__ import annotations

import json
import os

import pytest
import torch

from benchmarks import provenance

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False

_SESSION_START = provenance.Snapshot.take(per_process=True)  # before any benchmark runs


def pytest_collect_file(file_path, parent):
    """`pytest benchmarks` collects bench_*.py (pytest's default pattern is test_*.py)."""
    if (file_path.suffix == ".py" and file_path.name.startswith("bench_")
            and not parent.session.isinitpath(file_path)):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


def pytest_benchmark_update_machine_info(config, machine_info):
    """Called once, when the JSON is written (after the last benchmark)."""
    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["tf32"] = False
    machine_info["cuda_device"] = (torch.cuda.get_device_name(0)
                                   if torch.cuda.is_available() else None)
    machine_info.update(provenance.machine())
    machine_info["load"] = provenance.load_since(_SESSION_START, per_process=True)


def pytest_benchmark_update_commit_info(config, commit_info):
    commit_info["dirty_source_paths"] = provenance.git()["dirty_source_paths"]


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["provenance"] = {**provenance.command(), "load": output_json["machine_info"]
                                 .get("load"), "git": provenance.git()}


@pytest.fixture(autouse=True)
def _load_during_benchmark(request):
    """Each benchmark's own load: loadavg before/after and other processes' CPU share."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    benchmark = request.getfixturevalue("benchmark")
    start = provenance.Snapshot.take()
    yield
    benchmark.extra_info["load"] = provenance.load_since(start)
    benchmark.extra_info.setdefault("torch_threads", torch.get_num_threads())


@pytest.fixture
def sync():
    """Call after each timed step so CUDA work is finished inside the timing."""
    if torch.cuda.is_available():
        return torch.cuda.synchronize
    return lambda: None


def record(benchmark, *, op: str, provider: str, shape: str, fn=None, ran: str | None = None,
           **extra) -> None:
    """Name the group and store what ran.

    Args:
        provider: the name shown in the tables, e.g. 'hubkit-cpp', 'torch'.
        fn: the timed callable; one extra call is traced (`provenance.trace_ops`)
            and the ops it dispatched are stored as `ran`. If `backend` names a
            hubkit backend, the trace must show hubkit ops on exactly that backend.
        ran: a description of what ran, for providers that are not torch ops.
    """
    benchmark.group = f"{op} {shape}"
    if fn is not None:
        traced = provenance.trace_ops(fn)
        _check_backend(provider, extra.get("backend"), traced)
        ran = traced
    benchmark.extra_info.update({"op": op, "provider": provider, "shape": shape, **extra})
    if ran is not None:
        benchmark.extra_info["ran"] = ran


def _check_backend(provider: str, backend: str | None, traced: list[str]) -> None:
    hubkit_ops = [name for name in traced if name.startswith("hubkit::")]
    if backend in (None, "torch"):
        assert not hubkit_ops, f"{provider}: said to run torch only, but ran {hubkit_ops}"
        return
    wrong = [name for name in hubkit_ops if not name.endswith(f"[{backend}]")]
    assert hubkit_ops and not wrong, (f"{provider}: said to run hubkit's {backend} backend, "
                                      f"but ran {traced}")


def ratios(path: str, *, scale: float = 1.0, unit: str = "s", digits: int = 3) -> list[str]:
    """Median time of each provider and its ratio to hubkit-cpp, per group of a result file.

    Args:
        path: a pytest-benchmark JSON file.
        scale, unit, digits: how times are shown (e.g. 1e6, "us", 1).
    """
    groups: dict[str, dict[str, float]] = {}
    for b in json.load(open(path))["benchmarks"]:
        groups.setdefault(b["group"], {})[b["extra_info"]["provider"]] = b["stats"]["median"]
    lines = []
    for group, times in sorted(groups.items()):
        cpp = times.get("hubkit-cpp")
        cells = [f"{p} {t * scale:.{digits}f} {unit}" + (f" ({t / cpp:.2f}x)" if cpp else "")
                 for p, t in sorted(times.items(), key=lambda kv: kv[1])]
        lines.append(f"{group}: " + ", ".join(cells))
    return lines
