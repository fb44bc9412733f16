"""Fused bias + GELU: hubkit backends vs torch's unfused `gelu(x + b)`.

Run: `pytest benchmarks/bench_bias_gelu.py --benchmark-columns=median,iqr`
(or `hubkit bench bias_gelu`). CUDA cases skip without a GPU.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import hubkit
from benchmarks.conftest import record

SHAPES = [(256, 1024), (4096, 4096)]


GPU = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                         reason="needs a CUDA device")]


def _providers(device: str):
    if device == "cuda":  # always listed (marked gpu): the GPU check's dry run collects them
        return [("torch", None), ("cuda", "cuda"), ("triton", "triton")]
    avail = hubkit.ops.available_backends()
    return [("torch", None)] + [(b, b) for b in ("cpp", "reference") if b in avail]


CASES = [pytest.param(d, s, p, b, id=f"{d}-{s[0]}x{s[1]}-{p}",
                      marks=GPU if d == "cuda" else [])
         for d in ("cpu", "cuda") for s in SHAPES for p, b in _providers(d)]


@pytest.mark.parametrize("device,shape,provider,backend", CASES)
def test_bias_gelu_forward(benchmark, sync, device, shape, provider, backend):
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    x = torch.randn(shape, device=device, dtype=dtype)
    b = torch.randn(shape[1], device=device, dtype=dtype)
    if provider == "torch":
        fn = lambda: F.gelu(x + b)  # noqa: E731
    else:
        fn = lambda: hubkit.ops.bias_gelu(x, b, backend=backend)  # noqa: E731
    torch.testing.assert_close(fn().float(), F.gelu(x.float() + b.float()),
                               atol=2e-2, rtol=2e-2)
    timed = lambda: (fn(), sync())  # noqa: E731
    record(benchmark, op="bias_gelu", provider=provider, shape=f"{device} {shape} {dtype}",
           backend=backend or "torch", device=device, fn=timed)
    benchmark(timed)
