"""LSTM layer: hubkit's fused C++ op vs torch.nn.LSTM (oneDNN/MKL on CPU), float32.

Run: `OMP_NUM_THREADS=2 pytest benchmarks/bench_lstm.py --benchmark-columns=median,iqr`
(or `hubkit bench lstm`). One layer, input and hidden 256, sequence 128, batch
1 / 8 / 32, on 2 threads for both providers (the speed goal is stated for 2).
Groups are "lstm cpu B=<b> <fwd|fwd+bwd>".

With a CUDA device, the same shapes also run on it: hubkit's Triton backend (one
fused-cell launch per step; its backward is the reference BPTT in torch ops)
against torch.nn.LSTM on cuDNN, float32, groups "lstm cuda B=<b> <fwd|fwd+bwd>".
These cases are skipped without a GPU (the interpreter is far too slow to time).

Goals (issue 17): forward >= 1.0x torch at every batch (stretch 1.5x at batch 1,
where torch's per-step overhead dominates); forward plus backward >= 0.7x.
"""

from __future__ import annotations

import pytest
import torch

import hubkit
from benchmarks.conftest import record

T, I, H = 128, 256, 256
BATCHES = (1, 8, 32)
THREADS = 2
PROVIDERS = ["torch"] + [b for b in ("cpp",) if b in hubkit.ops.available_backends()]
CASES = [(b, m, p) for b in BATCHES for m in ("fwd", "fwd+bwd") for p in PROVIDERS]
# subtle: triton is only timed on CUDA tensors; "cudnn" is torch.nn.LSTM on the GPU.
GPU_PROVIDERS = ["cudnn"] + [b for b in ("triton",) if b in hubkit.ops.available_backends()]
GPU_CASES = [(b, m, p) for b in BATCHES for m in ("fwd", "fwd+bwd") for p in GPU_PROVIDERS]


@pytest.fixture(autouse=True)
def _two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)


def _fn(provider: str, lstm: torch.nn.LSTM, x, h0, c0, mode: str):
    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)

    def forward():
        if provider in ("torch", "cudnn"):
            return lstm(x, (h0[None], c0[None]))[0]
        bias = lstm.bias_ih_l0 + lstm.bias_hh_l0
        return hubkit.ops.lstm(x, h0, c0, lstm.weight_ih_l0, lstm.weight_hh_l0, bias,
                               backend=provider)[0]

    if mode == "fwd":
        def run():
            with torch.no_grad():
                y = forward()
            sync()  # subtle: CUDA launches are async; time the work, not the queueing
            return y
        return run

    def both():
        y = forward()
        y.backward(torch.ones_like(y))
        sync()
        return y

    return both


@pytest.mark.parametrize("batch,mode,provider", CASES,
                         ids=[f"B{b}-{m}-{p}" for b, m, p in CASES])
def test_lstm(benchmark, batch, mode, provider):
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(I, H)
    x = torch.randn(T, batch, I, generator=gen, requires_grad=mode != "fwd")
    h0, c0 = torch.zeros(batch, H), torch.zeros(batch, H)
    fn = _fn(provider, lstm, x, h0, c0, mode)
    with torch.no_grad():
        want = lstm(x, (h0[None], c0[None]))[0]
    torch.testing.assert_close(fn(), want, atol=1e-4, rtol=1e-4)
    record(benchmark, op="lstm", provider=provider, shape=f"cpu B={batch} {mode}",
           backend=provider, device="cpu", threads=THREADS, fn=fn)
    benchmark(fn)


@pytest.mark.gpu
@pytest.mark.parametrize("batch,mode,provider", GPU_CASES,
                         ids=[f"cuda-B{b}-{m}-{p}" for b, m, p in GPU_CASES])
def test_lstm_cuda(benchmark, batch, mode, provider):
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(I, H).cuda()
    x = torch.randn(T, batch, I, generator=gen).cuda().requires_grad_(mode != "fwd")
    h0, c0 = torch.zeros(batch, H, device="cuda"), torch.zeros(batch, H, device="cuda")
    fn = _fn(provider, lstm, x, h0, c0, mode)
    with torch.no_grad():
        want = lstm(x, (h0[None], c0[None]))[0]
    # subtle: cuDNN may round float32 matmul inputs to TF32; the Triton kernel does not.
    torch.testing.assert_close(fn(), want, atol=2e-3, rtol=2e-3)
    backend = "torch" if provider == "cudnn" else provider
    record(benchmark, op="lstm", provider=provider, shape=f"cuda B={batch} {mode}",
           backend=backend, device="cuda", fn=fn)
    benchmark(fn)
