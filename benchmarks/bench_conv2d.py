"""conv2d: hubkit backends vs torch's own conv2d (oneDNN on CPU, cuDNN on GPU).

Run: `pytest benchmarks/bench_conv2d.py --benchmark-columns=median,iqr`
(or `hubkit bench conv2d`). CPU cases are float32 on torch's thread count (the
cpp backend uses as many OpenMP threads); CUDA cases are bfloat16 and skip
without a GPU. Groups are "conv2d <device> <shape> <fwd|fwd+bwd>".

CPU providers: torch, cpp (its "auto" choice: Winograd F(4x4, 3x3) on the 3x3
shapes here), cpp-im2col, cpp-winograd2 (`algorithm=` forces the path) and the
reference. The issue's goals are on resnet56 and resnet28 at 2 threads:
`pytest benchmarks/bench_conv2d.py -k "cpu and resnet" --benchmark-columns=median`.
The weights stay fixed across rounds, so the cpp backend's Winograd filter
transforms come from its cache after the first call (as in inference).

`error_table()` prints the float32 error of each path against float64 (the
figures in `hubkit.cnn.winograd`'s docstring).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import hubkit
from benchmarks.conftest import record

# (N, C, K, H, W, R, S, stride, padding)
SHAPES = {
    "small": (4, 16, 32, 32, 32, 3, 3, 1, 1),
    "resnet56": (8, 64, 64, 56, 56, 3, 3, 1, 1),
    "resnet28": (16, 128, 128, 28, 28, 3, 3, 1, 1),
}
# The reference backend is slow on the heavy shapes: one timed round there.
ROUNDS = {"reference": 1}


GPU = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                         reason="needs a CUDA device")]


def _providers(device: str):
    if device == "cuda":  # always listed (marked gpu): the GPU check's dry run collects them
        return ["torch", "cuda"]
    avail = hubkit.ops.available_backends()
    cpp = ["cpp", "cpp-im2col", "cpp-winograd2"] if "cpp" in avail else []
    return ["torch", *cpp] + (["reference"] if "reference" in avail else [])


CASES = [pytest.param(d, s, m, p, id=f"{d}-{s}-{m}-{p}",
                      marks=GPU if d == "cuda" else [])
         for d in ("cpu", "cuda") for s in SHAPES for m in ("fwd", "fwd+bwd")
         for p in _providers(d)]


def _fn(provider, x, w, pad, mode):
    backend, _, algorithm = provider.partition("-")  # "cpp-im2col" -> cpp, im2col

    def conv():
        if provider == "torch":
            return F.conv2d(x, w, None, 1, pad)
        return hubkit.ops.conv2d(x, w, None, 1, pad, backend=backend,
                                 algorithm=algorithm or "auto")

    if mode == "fwd":
        return conv

    def both():
        y = conv()
        y.backward(torch.ones_like(y))
        return y

    return both


@pytest.mark.parametrize("device,shape,mode,provider", CASES)
def test_conv2d(benchmark, sync, device, shape, mode, provider):
    n, c, k, h, wd, r, s, stride, pad = SHAPES[shape]
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    gen = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(n, c, h, wd, device=device, dtype=dtype, generator=gen)
    w = torch.randn(k, c, r, s, device=device, dtype=dtype, generator=gen) / (c * r * s) ** 0.5
    x.requires_grad_(mode != "fwd")
    w.requires_grad_(mode != "fwd")
    fn = _fn(provider, x, w, pad, mode)
    with torch.no_grad():
        want = F.conv2d(x.float(), w.float(), None, 1, pad)
    torch.testing.assert_close(fn().detach().float(), want, atol=5e-2, rtol=5e-2)
    timed = lambda: (fn(), sync())  # noqa: E731
    record(benchmark, op="conv2d", provider=provider, fn=timed,
           shape=f"{device} N{n} C{c} K{k} {h}x{wd} {r}x{s} {str(dtype)[6:]} {mode}",
           backend=provider.split("-")[0], device=device, mode=mode,
           threads=torch.get_num_threads(),
           gflop=2 * n * k * c * r * s * h * wd * (1 if mode == "fwd" else 3) / 1e9)
    rounds = ROUNDS.get(provider, 5 if shape != "small" else 20)
    benchmark.pedantic(timed, rounds=rounds, iterations=1, warmup_rounds=1)


def error_table(sizes=((64, 28), (128, 28), (256, 14), (512, 14)), seed: int = 0) -> str:
    """float32 error of each CPU path against float64, randn x, kaiming-normal weights.

    One row per (C = K, H = W); each cell is max |error| / max |y| and RMS error / RMS y.
    """
    paths = ("im2col", "winograd2", "winograd4", "torch")
    rows = ["C=K  " + "  ".join(f"{p:>17}" for p in paths)]
    for c, hw in sizes:
        gen = torch.Generator().manual_seed(seed)
        x = torch.randn(2, c, hw, hw, generator=gen, dtype=torch.float64)
        w = torch.randn(c, c, 3, 3, generator=gen, dtype=torch.float64) * (2 / (9 * c)) ** 0.5
        want, cells = F.conv2d(x, w, None, 1, 1), []
        for p in paths:
            y = (F.conv2d(x.float(), w.float(), None, 1, 1) if p == "torch" else
                 hubkit.ops.conv2d(x.float(), w.float(), None, 1, 1, backend="cpp",
                                   algorithm=p))
            err = y.double() - want
            cells.append(f"{float(err.abs().max() / want.abs().max()):.1e} / "
                         f"{float(err.square().mean().sqrt() / want.square().mean().sqrt()):.1e}")
        rows.append(f"{c:<4} " + "  ".join(f"{cell:>17}" for cell in cells))
    return "\n".join(rows)
