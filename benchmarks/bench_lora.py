"""LoRA linear: hubkit's op vs the unfused three matmuls (as PEFT runs it) vs merged W.

Providers, per shape, each named for what it runs:
* hubkit-triton (CUDA): `hubkit.ops.lora_linear` on its fused Triton kernel;
* hubkit-reference (CPU): `hubkit.ops.lora_linear` on its reference backend, the
  same three matmuls as "unfused" behind a torch op: NOT fused. hubkit has no
  fused CPU kernel (Triton runs interpreted on CPU, far too slow to time), so
  the CPU rows measure the op's overhead, never the fusion;
* unfused: `x W^T + b + scale * (x A^T) B^T` as three separate torch matmuls;
* merged: one torch matmul with W + scale * B A folded in beforehand (inference only).

`extra_info["ran"]` lists the ops one call dispatched (e.g.
`hubkit::lora_linear[reference]`), checked against the provider's name.

Goals on one H100 (bf16, M=8192, K=N=4096, r in {16, 64}): hubkit-triton forward
>= 1.15x unfused; forward+backward >= 1.1x unfused; forward within 1.1x of merged.
`benchmarks/gpu_check.py` computes the ratios from each group's medians.

Run: `pytest benchmarks/bench_lora.py --benchmark-columns=median,iqr`. CUDA cases skip
without a GPU; the CPU cases are small and run on one thread.
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


def _hubkit(device: str) -> str:
    """The hubkit provider on `device`, named for the backend it runs."""
    return "hubkit-triton" if device == "cuda" else "hubkit-reference"


def _provider_fn(provider, x, w, b, a, bb):
    if provider.startswith("hubkit-"):
        backend = provider.removeprefix("hubkit-")
        return lambda: hubkit.ops.lora_linear(x, w, b, a, bb, SCALE, backend=backend)
    if provider == "unfused":
        return lambda: _unfused(x, w, b, a, bb)
    merged = (w + SCALE * bb.detach() @ a.detach()).contiguous()
    return lambda: torch.nn.functional.linear(x, merged, b)


def _cases(direction):
    def providers(device):
        return [_hubkit(device), "unfused"] + (["merged"] if direction == "fwd" else [])
    out = [pytest.param("cpu", s, p, id=f"cpu-M{s[0]}-r{s[3]}-{p}")
           for s in CPU_SHAPES for p in providers("cpu")]
    out += [pytest.param("cuda", s, p, marks=pytest.mark.gpu, id=f"cuda-M{s[0]}-r{s[3]}-{p}")
            for s in GPU_SHAPES for p in providers("cuda")]
    return out


@pytest.fixture
def threads(device):
    """CPU cases on one thread: tiny matmuls, and 2 shared cores stall a 2-thread pool."""
    before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    yield torch.get_num_threads()
    torch.set_num_threads(before)


def _setup(device, shape, provider, grad):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    tensors = _inputs(*shape, device, dtype, grad=grad)
    fn = _provider_fn(provider, *tensors)
    want = _unfused(*(t.detach().float() for t in tensors))
    tol = 3e-2 if dtype == torch.bfloat16 else 1e-4
    torch.testing.assert_close(fn().float(), want, atol=tol * float(want.abs().max()), rtol=tol)
    return fn, tensors, dtype


def _record(benchmark, direction, device, shape, provider, dtype, threads, timed):
    m, k, n, r = shape
    record(benchmark, op=f"lora_linear {direction}", provider=provider, fn=timed,
           shape=f"{device} M={m} K={k} N={n} r={r} {dtype}", device=device,
           backend=provider.removeprefix("hubkit-") if provider.startswith("hubkit-")
           else "torch", torch_threads=threads)


@pytest.mark.parametrize("device,shape,provider", _cases("fwd"))
def test_lora_linear_forward(benchmark, sync, threads, device, shape, provider):
    fn, _, dtype = _setup(device, shape, provider, grad=False)
    timed = lambda: (fn(), sync())  # noqa: E731
    with torch.no_grad():
        _record(benchmark, "fwd", device, shape, provider, dtype, threads, timed)
        benchmark(timed)


@pytest.mark.parametrize("device,shape,provider", _cases("fwd+bwd"))
def test_lora_linear_forward_backward(benchmark, sync, threads, device, shape, provider):
    fn, tensors, dtype = _setup(device, shape, provider, grad=True)
    x, _, b, a, bb = tensors
    grad = torch.ones(shape[0], shape[2], device=device, dtype=dtype)
    timed = lambda: (torch.autograd.grad(fn(), (x, b, a, bb), grad), sync())  # noqa: E731
    _record(benchmark, "fwd+bwd", device, shape, provider, dtype, threads, timed)
    benchmark(timed)
