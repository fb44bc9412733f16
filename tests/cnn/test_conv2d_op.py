"""hubkit.ops.conv2d: every available backend against torch's conv2d in float64."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

import hubkit
from hubkit.cnn.ops import DTYPES

CASES = [
    ("reference", "cpu", (torch.float32, torch.float64)),
    ("cpp", "cpu", (torch.float32, torch.float64)),
    ("cuda", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
    ("reference", "cuda", (torch.float32,)),
]
# Tolerance next to each dtype, relative to the output scale (reductions of ~100 terms).
TOL = {torch.float64: 1e-10, torch.float32: 2e-5, torch.float16: 5e-3, torch.bfloat16: 3e-2}


def _random_configs(count: int, seed: int = 0):
    """(N, C, H, W, K, R, S, stride, padding, dilation, groups) with odd sizes."""
    rng, out = random.Random(seed), []
    while len(out) < count:
        g = rng.choice([1, 1, 2, 3])
        c, k = g * rng.randint(1, 4), g * rng.randint(1, 4)
        r, s = rng.randint(1, 4), rng.randint(1, 4)
        st = (rng.randint(1, 3), rng.randint(1, 3))
        pad = (rng.randint(0, 2), rng.randint(0, 2))
        dil = (rng.randint(1, 2), rng.randint(1, 2))
        h, w = rng.randint(3, 13), rng.randint(3, 13)
        if h + 2 * pad[0] >= dil[0] * (r - 1) + 1 and w + 2 * pad[1] >= dil[1] * (s - 1) + 1:
            out.append((rng.randint(1, 3), c, h, w, k, r, s, st, pad, dil, g))
    return out


CONFIGS = [
    (2, 3, 7, 9, 5, 3, 3, 1, 1, 1, 1),
    (1, 4, 8, 8, 8, 1, 1, 1, 0, 1, 1),  # 1x1: the cpp path without im2col
    (3, 6, 10, 7, 6, 3, 3, 1, 1, 1, 6),  # depthwise
    *_random_configs(6),
]


def _params():
    out = []
    for backend, device, dtypes in CASES:
        marks = [pytest.mark.gpu] if device == "cuda" else []
        out += [pytest.param(backend, device, d, marks=marks, id=f"{backend}-{device}-{str(d)[6:]}")
                for d in dtypes]
    return out


def _skip_unavailable(backend, device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _inputs(cfg, dtype, device, gen, layout="contiguous"):
    n, c, h, w, k, r, s, *_, groups = cfg
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    wt = torch.randn(k, c // groups, r, s, generator=gen, dtype=torch.float64)
    b = torch.randn(k, generator=gen, dtype=torch.float64)
    if layout == "channels_last":
        x = x.to(memory_format=torch.channels_last)
    elif layout == "transposed":  # same values, a non-contiguous view
        x = x.transpose(2, 3).contiguous().transpose(2, 3)
    return [t.to(device, dtype).requires_grad_() for t in (x, wt, b)]


def _check_against_float64(cfg, backend, device, dtype, gen, layout="contiguous"):
    stride, padding, dilation, groups = cfg[7:]
    x, w, b = _inputs(cfg, dtype, device, gen, layout)
    y = hubkit.ops.conv2d(x, w, b, stride, padding, dilation, groups, backend=backend)
    gy = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(device, dtype)
    grads = torch.autograd.grad(y, (x, w, b), gy)
    x64, w64, b64 = (t.detach().double().requires_grad_() for t in (x, w, b))
    y64 = F.conv2d(x64, w64, b64, stride, padding, dilation, groups)
    want = torch.autograd.grad(y64, (x64, w64, b64), gy.double())
    for name, got, ref in zip(("y", "grad_x", "grad_w", "grad_b"), (y, *grads), (y64, *want),
                              strict=True):
        assert got.dtype == dtype and got.shape == ref.shape, name
        scale = max(float(ref.detach().abs().max()), 1.0)
        torch.testing.assert_close(got.double(), ref, atol=TOL[dtype] * scale, rtol=TOL[dtype],
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("backend,device,dtype", _params())
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_conv2d_matches_torch_forward_and_backward(backend, device, dtype, cfg, gen):
    _skip_unavailable(backend, device)
    _check_against_float64(cfg, backend, device, dtype, gen)


@pytest.mark.parametrize("backend,device,dtype", _params())
@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_conv2d_accepts_channels_last_and_non_contiguous(backend, device, dtype, layout, gen):
    _skip_unavailable(backend, device)
    _check_against_float64((2, 4, 9, 7, 6, 3, 2, 2, 1, (1, 2), 2), backend, device, dtype, gen,
                           layout)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_conv2d_cpp_matches_torch_past_every_gemm_block_edge(dtype, gen):
    # K=100 > the 96-row A block, C*R*S=288 > the 256-deep K slice, P*Q=4900 > the
    # 4096-column B block and not a multiple of 32; one image, so the GEMM splits columns.
    _skip_unavailable("cpp", "cpu")
    _check_against_float64((1, 32, 70, 70, 100, 3, 3, 1, 1, 1, 1), "cpp", "cpu", dtype, gen)


@pytest.mark.parametrize("backend,device,dtype", _params())
def test_conv2d_passes_opcheck(backend, device, dtype, gen):
    _skip_unavailable(backend, device)
    x, w, b = _inputs((2, 4, 7, 6, 6, 3, 2, 0, 0, 0, 2), dtype, device, gen)
    args = ([2, 1], [1, 0], [1, 2], 2, "auto", backend)
    torch.library.opcheck(torch.ops.hubkit.conv2d.default, (x, w, b, *args))
    torch.library.opcheck(torch.ops.hubkit.conv2d.default, (x, w, None, *args))
    gy = torch.randn(2, 6, 4, 4, generator=gen).to(device, dtype)
    torch.library.opcheck(torch.ops.hubkit.conv2d_backward.default,
                          (gy, x.detach(), w.detach(), b.detach(), *args))
    torch.library.opcheck(torch.ops.hubkit.conv2d_backward.default,
                          (gy, x.detach(), w.detach(), None, *args))


def test_conv2d_without_bias_gives_no_bias_grad_and_matches_torch(gen):
    x, w, _ = _inputs((2, 3, 6, 6, 4, 3, 3, 0, 0, 0, 1), torch.float64, "cpu", gen)
    y = hubkit.ops.conv2d(x, w, None, padding=1)
    torch.testing.assert_close(y, F.conv2d(x, w, None, padding=1))
    y.sum().backward()
    assert x.grad is not None and w.grad is not None


def test_conv2d_works_under_torch_compile(gen):
    x, w, b = _inputs((2, 4, 8, 8, 4, 3, 3, 0, 0, 0, 2), torch.float32, "cpu", gen)
    fn = torch.compile(lambda x, w, b: hubkit.ops.conv2d(x, w, b, 2, 1, 1, 2).relu().sum(),
                       fullgraph=True)
    fn(x, w, b).backward()
    x2, w2, b2 = (t.detach().clone().requires_grad_() for t in (x, w, b))
    F.conv2d(x2, w2, b2, 2, 1, 1, 2).relu().sum().backward()
    for got, want in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_conv2d_default_backend_on_cpu_is_cpp_when_built():
    from hubkit._backend import resolve
    from hubkit.cnn.ops import SPEC

    expected = "cpp" if "cpp" in hubkit.ops.available_backends() else "reference"
    assert resolve(SPEC, torch.device("cpu")) == expected


def test_conv2d_leaves_inputs_unchanged(gen):
    x, w, b = _inputs((2, 3, 6, 5, 4, 3, 3, 0, 0, 0, 1), torch.float64, "cpu", gen)
    before = [t.detach().clone() for t in (x, w, b)]
    hubkit.ops.conv2d(x, w, b, padding=1).sum().backward()
    assert all(torch.equal(t.detach(), t0) for t, t0 in zip((x, w, b), before, strict=True))


def test_conv2d_cpp_rejects_half_with_a_clear_error():
    if "cpp" not in hubkit.ops.available_backends():
        pytest.skip("cpp not built")
    assert torch.float16 not in DTYPES["cpp"]
    with pytest.raises(ValueError, match="x: dtype float16"):
        hubkit.ops.conv2d(torch.ones(1, 1, 3, 3, dtype=torch.float16),
                          torch.ones(1, 1, 3, 3, dtype=torch.float16), backend="cpp")


def test_conv2d_cuda_backend_on_cpu_tensors_raises():
    with pytest.raises((ValueError, hubkit.ops.BackendUnavailableError), match="backend"):
        hubkit.ops.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3), backend="cuda")


def _x(*shape, dtype=torch.float32):
    return torch.ones(*shape, dtype=dtype)


BAD = [
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 2, 3, 3)), "weight: expected 3 input channels"),
    (dict(x=_x(1, 4, 8, 8), weight=_x(6, 2, 3, 3), groups=3), "groups: 3 must divide"),
    (dict(x=_x(1, 4, 8, 8), weight=_x(6, 1, 3, 3), groups=0), "groups: expected a positive"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3, dtype=torch.float64)), "weight: dtype"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), bias=_x(4, dtype=torch.float64)),
     "bias: dtype"),
    (dict(x=_x(0, 3, 8, 8), weight=_x(4, 3, 3, 3)), "x: empty batch"),
    (dict(x=_x(1, 3, 4, 4), weight=_x(4, 3, 5, 5)), "weight: kernel extent 5 is larger"),
    (dict(x=_x(1, 3, 4, 4), weight=_x(4, 3, 3, 3), dilation=3, padding=1),
     "weight: kernel extent 7"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), stride=-1), "stride: every entry must be >= 1"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), stride=0), "stride: every entry"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), padding=(1, -1)), "padding: every entry"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), dilation=(1, 2, 3)), "dilation: expected"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3, 3), bias=_x(5)), "bias: expected shape"),
    (dict(x=_x(3, 8, 8), weight=_x(4, 3, 3, 3)), "x: expected 4 dims"),
    (dict(x=_x(1, 3, 8, 8), weight=_x(4, 3, 3)), "weight: expected 4 dims"),
    (dict(x=_x(1, 3, 8, 8, dtype=torch.int64), weight=_x(4, 3, 3, 3)), "x: dtype"),
]


@pytest.mark.parametrize("kwargs,match", BAD, ids=[m.split(":")[0] + "-" + str(i)
                                                   for i, (_, m) in enumerate(BAD)])
def test_conv2d_bad_input_raises_value_error_naming_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        hubkit.ops.conv2d(**kwargs)


@pytest.mark.gpu
def test_conv2d_mixed_devices_raise_value_error():
    with pytest.raises(ValueError, match="weight: on"):
        hubkit.ops.conv2d(torch.ones(1, 1, 3, 3, device="cuda"), torch.ones(1, 1, 3, 3))


def test_conv2d_mixed_devices_raise_value_error_on_meta():
    with pytest.raises(ValueError, match="weight: on"):
        hubkit.ops.conv2d(torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3, device="meta"))
