"""Profile the same work on CPU and, where there is one, on the GPU, with torch.profiler.

`profile_mlp` runs a few training steps of hubkit.basics.torch_mlp.TorchMLP
under `torch.profiler.profile`, recording CPU activity always and CUDA
activity when `torch.cuda.is_available()`. It returns the per-op table
(self time, sorted) and the total time per device, and can write a Chrome
trace (open it in chrome://tracing or https://ui.perfetto.dev). On a CPU-only
machine the GPU column is simply absent: the function says so, it does not
pretend. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

from pathlib import Path

import torch


def _steps(device: str, batch: int, width: int, steps: int) -> None:
    from hubkit.basics.torch_mlp import TorchMLP

    model = TorchMLP([width, width, width, 10]).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    x = torch.randn(batch, width, device=device)
    y = torch.randint(0, 10, (batch,), device=device)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()


def profile_mlp(device: str = "cpu", batch: int = 256, width: int = 256, steps: int = 5,
                trace: str | Path | None = None) -> dict:
    """Profile `steps` MLP training steps on `device` ("cpu" or "cuda").

    Returns:
        {"device", "activities", "table" (str), "total_ms" {"cpu": ..., "cuda": ...}}.

    Example:
        >>> out = profile_mlp("cpu", batch=8, width=16, steps=1)
        >>> out["activities"], out["total_ms"]["cpu"] > 0
        (['cpu'], True)
    """
    from torch.profiler import ProfilerActivity, profile

    if device not in ("cpu", "cuda"):
        raise ValueError(f"device: expected 'cpu' or 'cuda', got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device: 'cuda' asked for, but torch.cuda.is_available() is False")
    activities = [ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(ProfilerActivity.CUDA)
    _steps(device, batch, width, 1)  # warm-up: allocations and kernel choice
    with profile(activities=activities) as prof:
        _steps(device, batch, width, steps)
    if trace is not None:
        prof.export_chrome_trace(str(trace))
    events = prof.key_averages()
    totals = {"cpu": sum(e.self_cpu_time_total for e in events) / 1e3}
    if torch.cuda.is_available():
        totals["cuda"] = sum(getattr(e, "self_device_time_total", 0) for e in events) / 1e3
    sort = "self_cuda_time_total" if device == "cuda" else "self_cpu_time_total"
    return {"device": device, "activities": ["cpu", "cuda"][:len(activities)],
            "table": events.table(sort_by=sort, row_limit=10), "total_ms": totals}


def compare_devices(**kw) -> dict[str, dict]:
    """profile_mlp on CPU, and on CUDA when available; keys are the devices that ran."""
    out = {"cpu": profile_mlp("cpu", **kw)}
    if torch.cuda.is_available():
        out["cuda"] = profile_mlp("cuda", **kw)
    return out
