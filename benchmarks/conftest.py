"""Shared setup for hubkit's pytest-benchmark files.

Every benchmark runs with TF32 off and a recorded thread count, so a ratio
measured here compares like with like. Providers of one op at one shape share
a `benchmark.group`; `record(...)` stores provider, backend and device in the
JSON so `benchmarks/gpu_check.py` and readers can compute ratios per group.
"""

from __future__ import annotations

import os

import pytest
import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["torch"] = torch.__version__
    machine_info["torch_threads"] = torch.get_num_threads()
    machine_info["tf32"] = False
    machine_info["cuda_device"] = (torch.cuda.get_device_name(0)
                                   if torch.cuda.is_available() else None)


@pytest.fixture
def sync():
    """Call after each timed step so CUDA work is finished inside the timing."""
    if torch.cuda.is_available():
        return torch.cuda.synchronize
    return lambda: None


def record(benchmark, *, op: str, provider: str, shape: str, **extra) -> None:
    """Name the group and store what ran; `provider` is e.g. 'cpp', 'torch'."""
    benchmark.group = f"{op} {shape}"
    benchmark.extra_info.update({"op": op, "provider": provider, "shape": shape, **extra})
