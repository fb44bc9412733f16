"""Attention: hubkit's fused Triton kernel vs torch SDPA (flash backend) vs the reference.

Providers, per shape:
* triton: `hubkit.ops.attention(..., backend="triton")` (FlashAttention-2 style);
* sdpa_flash: `F.scaled_dot_product_attention` restricted to its flash backend;
* reference: `hubkit.ops.attention(..., backend="reference")`, which stores the
  (T, T) float32 score matrix (skipped past T = 4096, where it needs > 16 GB).

Goals on one H100 (B=4, H=16, D in {64, 128}, bfloat16): forward >= 1.0x sdpa_flash
(stretch 1.15x), forward+backward >= 0.9x. `extra_info` holds TFLOP/s
(forward 4 B H T^2 D, halved when causal; backward 2.5x the forward).
`benchmarks/gpu_check.py` computes the ratios per group.

The default GPU set is T in {1024, 4096}; HUBKIT_BENCH_FULL=1 adds T = 8192.
On CPU the cases are tiny and only check that the providers agree (the triton
provider runs interpreted there, so it is checked but never timed). They run on
one thread: on a 2-core machine shared with other jobs, torch's 2-thread pool
waits for a descheduled worker at every parallel region, which made single
calls take 20+ ms instead of 0.1 ms at random (the "400x faster causal" rows of
the 2026-11-27 file were that stall, not the mask). `extra_info["ran"]` names
the kernel each provider dispatched (on CPU, sdpa_flash runs
`aten::_scaled_dot_product_flash_attention_for_cpu`).

Run: `pytest benchmarks/bench_attention.py --benchmark-columns=median,iqr`.
"""

from __future__ import annotations

import os

import pytest
import torch
import torch.nn.functional as F

import hubkit
from benchmarks.conftest import record

B, H = 4, 16
GPU_T = [1024, 4096] + ([8192] if os.environ.get("HUBKIT_BENCH_FULL") == "1" else [])
GPU_SHAPES = [(B, H, t, d, c) for t in GPU_T for d in (64, 128) for c in (False, True)]
CPU_SHAPES = [(1, 2, 128, 32, False), (1, 2, 128, 32, True)]
PROVIDERS = ["triton", "sdpa_flash", "reference"]


def _cases():
    out = [pytest.param("cpu", s, p, id=f"cpu-T{s[2]}-D{s[3]}-{'causal' if s[4] else 'full'}-{p}")
           for s in CPU_SHAPES for p in ("sdpa_flash", "reference")]
    out += [pytest.param("cuda", s, p, marks=pytest.mark.gpu,
                         id=f"cuda-T{s[2]}-D{s[3]}-{'causal' if s[4] else 'full'}-{p}")
            for s in GPU_SHAPES for p in PROVIDERS]
    return out


def _sdpa(q, k, v, causal):
    if q.is_cuda:
        from torch.nn.attention import SDPBackend, sdpa_kernel

        with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    return F.scaled_dot_product_attention(q, k, v, is_causal=causal)


def _fn(provider, q, k, v, causal):
    if provider == "sdpa_flash":
        return lambda: _sdpa(q, k, v, causal)
    return lambda: hubkit.ops.attention(q, k, v, causal=causal, backend=provider)


@pytest.fixture
def threads(device):
    """CPU cases on one thread (see the module docstring); CUDA cases leave torch's default."""
    before = torch.get_num_threads()
    if device == "cpu":
        torch.set_num_threads(1)
    yield torch.get_num_threads()
    torch.set_num_threads(before)


def _setup(device, shape, provider, grad):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    b, h, t, d, causal = shape
    if provider == "reference" and t > 4096:
        pytest.skip("the reference stores a (T, T) float32 matrix per head: too big past 4096")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    q, k, v = (torch.randn(b, h, t, d, generator=gen, device=device, dtype=dtype)
               .requires_grad_(grad) for _ in range(3))
    fn = _fn(provider, q, k, v, causal)
    _check(fn(), q, k, v, causal)
    return fn, (q, k, v), dtype


def _check(got, q, k, v, causal):
    """Every provider must agree with float32 SDPA before it is timed."""
    want = F.scaled_dot_product_attention(q.detach().float(), k.detach().float(),
                                          v.detach().float(), is_causal=causal)
    tol = 2e-2 if got.dtype == torch.bfloat16 else 1e-4
    torch.testing.assert_close(got.detach().float(), want, atol=tol, rtol=tol)


def _flops(shape, backward: bool) -> float:
    b, h, t, d, causal = shape
    fwd = 4 * b * h * t * t * d * (0.5 if causal else 1.0)
    return fwd * (3.5 if backward else 1.0)


def _record(benchmark, shape, provider, device, dtype, direction, timed, threads):
    b, h, t, d, causal = shape
    record(benchmark, op=f"attention {direction}", provider=provider, fn=timed,
           shape=f"{device} B={b} H={h} T={t} D={d} {'causal' if causal else 'full'} {dtype}",
           device=device, backend="torch" if provider == "sdpa_flash" else provider,
           torch_threads=threads)


def _tflops(benchmark, shape, backward):
    median = benchmark.stats.stats.median
    benchmark.extra_info["tflops"] = round(_flops(shape, backward) / median / 1e12, 2)


@pytest.mark.parametrize("device,shape,provider", _cases())
def test_attention_forward(benchmark, sync, threads, device, shape, provider):
    fn, _, dtype = _setup(device, shape, provider, grad=False)
    timed = lambda: (fn(), sync())  # noqa: E731
    with torch.no_grad():
        _record(benchmark, shape, provider, device, dtype, "fwd", timed, threads)
        benchmark(timed)
    _tflops(benchmark, shape, backward=False)


@pytest.mark.parametrize("device,shape,provider", _cases())
def test_attention_forward_backward(benchmark, sync, threads, device, shape, provider):
    fn, qkv, dtype = _setup(device, shape, provider, grad=True)
    grad = torch.randn_like(qkv[0])
    timed = lambda: (torch.autograd.grad(fn(), qkv, grad), sync())  # noqa: E731
    _record(benchmark, shape, provider, device, dtype, "fwd+bwd", timed, threads)
    benchmark(timed)
    _tflops(benchmark, shape, backward=True)


@pytest.mark.triton
@pytest.mark.parametrize("causal", [False, True])
def test_attention_triton_agrees_on_cpu_interpreted(causal):
    if torch.cuda.is_available():
        pytest.skip("timed in the cuda cases")
    if "triton" not in hubkit.ops.available_backends():
        pytest.skip("triton not available")
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 40, 32, generator=gen) for _ in range(3))
    _check(hubkit.ops.attention(q, k, v, causal=causal, backend="triton"), q, k, v, causal)
