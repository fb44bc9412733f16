"""LoRA linear: hubkit's fused op vs the unfused three matmuls (as PEFT runs it) vs merged W.

Providers, per shape:
* fused: `hubkit.ops.lora_linear` (triton on CUDA; the reference backend on CPU);
* unfused: `x W^T + b + scale * (x A^T) B^T` as three separate torch matmuls;
* merged: one torch matmul with W + scale * B A folded in beforehand (inference only).

Goals on one H100 (bf16, M=8192, K=N=4096, r in {16, 64}): fused forward >= 1.15x
unfused; forward+backward >= 1.1x unfused; fused forward within 1.1x of merged.
`benchmarks/gpu_check.py` computes the ratios from each group's medians.

Run: `pytest benchmarks/bench_lora.py --benchmark-columns=median,iqr`. CUDA cases skip
without a GPU; the CPU cases are small and check that the providers agree.
"""

from __future__ import annotations

import pytest
import torch

import hubkit
from benchmarks.conftest import record

GPU_SHAPES = [(8192, 4096, 4096, 16), (8192, 4096, 4096, 64)]  # (M, K, N, r)
CPU_SHAPES = [(256, 256, 256, 16)]
SCALE = 2.0


def _inputs(m, k, n, r, device, dtype, grad=False):
    gen = torch.Generator(device=device).manual_seed(0)

    def rand(*shape, std=1.0):
        return (torch.randn(*shape, generator=gen, device=device) * std).to(dtype)
    x = rand(m, k).requires_grad_(grad)
    w, b = rand(n, k, std=k ** -0.5), rand(n)
    a = rand(r, k, std=k ** -0.5).requires_grad_(grad)
    bb = rand(n, r, std=r ** -0.5).requires_grad_(grad)
    return x, w, b.requires_grad_(grad), a, bb


def _unfused(x, w, b, a, bb):
    return torch.nn.functional.linear(x, w, b) + SCALE * ((x @ a.t()) @ bb.t())


def _provider_fn(provider, backend, x, w, b, a, bb):
    if provider == "fused":
        return lambda: hubkit.ops.lora_linear(x, w, b, a, bb, SCALE, backend=backend)
    if provider == "unfused":
        return lambda: _unfused(x, w, b, a, bb)
    merged = (w + SCALE * bb.detach() @ a.detach()).contiguous()
    return lambda: torch.nn.functional.linear(x, merged, b)


def _cases(direction):
    providers = ["fused", "unfused"] + (["merged"] if direction == "fwd" else [])
    out = [pytest.param("cpu", s, p, id=f"cpu-M{s[0]}-r{s[3]}-{p}")
           for s in CPU_SHAPES for p in providers]
    out += [pytest.param("cuda", s, p, marks=pytest.mark.gpu, id=f"cuda-M{s[0]}-r{s[3]}-{p}")
            for s in GPU_SHAPES for p in providers]
    return out


def _setup(device, shape, provider, grad):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    backend = "triton" if device == "cuda" else "reference"
    tensors = _inputs(*shape, device, dtype, grad=grad)
    fn = _provider_fn(provider, backend, *tensors)
    want = _unfused(*(t.detach().float() for t in tensors))
    tol = 3e-2 if dtype == torch.bfloat16 else 1e-4
    torch.testing.assert_close(fn().float(), want, atol=tol * float(want.abs().max()), rtol=tol)
    return fn, tensors, dtype, backend


@pytest.mark.parametrize("device,shape,provider", _cases("fwd"))
def test_lora_linear_forward(benchmark, sync, device, shape, provider):
    fn, _, dtype, backend = _setup(device, shape, provider, grad=False)
    m, k, n, r = shape
    record(benchmark, op="lora_linear fwd", provider=provider,
           shape=f"{device} M={m} K={k} N={n} r={r} {dtype}", device=device,
           backend=backend if provider == "fused" else "torch")
    with torch.no_grad():
        benchmark(lambda: (fn(), sync()))


@pytest.mark.parametrize("device,shape,provider", _cases("fwd+bwd"))
def test_lora_linear_forward_backward(benchmark, sync, device, shape, provider):
    fn, tensors, dtype, backend = _setup(device, shape, provider, grad=True)
    x, _, b, a, bb = tensors
    grad = torch.ones(shape[0], shape[2], device=device, dtype=dtype)
    m, k, n, r = shape
    record(benchmark, op="lora_linear fwd+bwd", provider=provider,
           shape=f"{device} M={m} K={k} N={n} r={r} {dtype}", device=device,
           backend=backend if provider == "fused" else "torch")
    benchmark(lambda: (torch.autograd.grad(fn(), (x, b, a, bb), grad), sync()))
