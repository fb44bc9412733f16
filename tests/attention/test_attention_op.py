"""hubkit.ops.attention: reference and triton backends vs torch's scaled_dot_product_attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import hubkit
from hubkit._backend import triton_interpreted
from hubkit.attention import reference

# (backend, device, dtypes it claims there); the interpreter has no bfloat16.
CASES = [
    ("reference", "cpu", (torch.float64, torch.float32)),
    ("triton", "cpu", (torch.float32, torch.float16)),
    ("triton", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
    ("reference", "cuda", (torch.float32, torch.bfloat16)),
]
# Tolerance next to each dtype, relative to the output / gradient scale.
TOL = {torch.float64: 1e-10, torch.float32: 2e-5, torch.float16: 4e-3, torch.bfloat16: 3e-2}
# (B, H, Tq, Tk, D, causal): T = 1, T = 37 (tails), Tq != Tk, causal and not.
SHAPES = [
    (1, 2, 1, 1, 16, True),
    (1, 2, 37, 37, 16, True),
    (1, 2, 37, 37, 32, False),
    (1, 2, 64, 64, 16, True),
    (2, 1, 20, 45, 16, False),
    (1, 2, 45, 20, 32, False),
    (1, 1, 33, 17, 16, True),
    (1, 1, 17, 23, 64, False),
    (1, 1, 9, 9, 128, True),
]


# On a GPU every new (dtype, D, causal, length) compiles kernels, so fewer shapes: bfloat16
# gets all of them, the other dtypes the first two.
GPU_SHAPES = [
    (1, 2, 37, 37, 64, True),
    (2, 3, 20, 45, 128, False),
    (1, 1, 1, 1, 16, True),
    (1, 2, 256, 256, 64, False),
]


def _params(with_shapes: bool = False):
    out = []
    for backend, device, dtypes in CASES:
        marks = [pytest.mark.gpu] if device == "cuda" else []
        if backend == "triton":
            marks.append(pytest.mark.triton)
        for dtype in dtypes:
            name = f"{backend}-{device}-{str(dtype)[6:]}"
            if not with_shapes:
                out.append(pytest.param(backend, device, dtype, marks=marks, id=name))
                continue
            shapes = SHAPES if device == "cpu" else (
                GPU_SHAPES if dtype == torch.bfloat16 else GPU_SHAPES[:2])
            out += [pytest.param(backend, device, dtype, shape, marks=marks, id=f"{name}-{shape}")
                    for shape in shapes]
    return out


def _skip_unavailable(backend: str, device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")
    if backend == "triton" and device == "cpu" and not triton_interpreted():
        pytest.skip("triton on CPU tensors needs TRITON_INTERPRET=1 (covered by the cuda cases)")


def _dev(backend: str) -> str:
    """Where a backend-parametrized test runs: triton on the GPU when there is one."""
    return "cuda" if backend == "triton" and torch.cuda.is_available() else "cpu"


def _qkv(b, h, tq, tk, d, dtype, device, gen, *, strided=False):
    def make(t):
        x = torch.randn(b, t, h, d, generator=gen, dtype=torch.float64)
        x = x.transpose(1, 2) if strided else x.transpose(1, 2).contiguous()  # (B, H, T, D)
        return x.to(device, dtype).requires_grad_()
    return make(tq), make(tk), make(tk)


def _close(got, want, dtype):
    tol = TOL[dtype]
    scale = max(float(want.detach().abs().max()), 1.0)
    assert got.dtype == dtype
    torch.testing.assert_close(got.double(), want.double(), atol=tol * scale, rtol=tol)


@pytest.mark.parametrize("backend,device,dtype,shape", _params(with_shapes=True))
def test_attention_matches_torch_sdpa_forward_and_qkv_grads(backend, device, dtype, shape, gen):
    _skip_unavailable(backend, device)
    b, h, tq, tk, d, causal = shape
    q, k, v = _qkv(b, h, tq, tk, d, dtype, device, gen, strided=True)
    out = hubkit.ops.attention(q, k, v, causal=causal, backend=backend)
    g = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(device, dtype)
    grads = torch.autograd.grad(out, (q, k, v), g)

    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    want = F.scaled_dot_product_attention(q64, k64, v64, is_causal=causal)
    want_grads = torch.autograd.grad(want, (q64, k64, v64), g.double())
    _close(out, want, dtype)
    for got, w in zip(grads, want_grads, strict=True):
        _close(got, w, dtype)


@pytest.mark.triton
def test_attention_triton_handles_t_1000(gen):
    dev = _dev("triton")
    _skip_unavailable("triton", dev)
    q, k, v = _qkv(1, 1, 1000, 1000, 16, torch.float32, dev, gen)
    out = hubkit.ops.attention(q, k, v, causal=True, backend="triton")
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True)
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_custom_scale_matches_sdpa(backend, gen):
    dev = _dev(backend)
    _skip_unavailable(backend, dev)
    q, k, v = _qkv(1, 2, 19, 23, 16, torch.float32, dev, gen)
    out = hubkit.ops.attention(q, k, v, scale=0.37, backend=backend)
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), scale=0.37)
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_survives_large_logits(backend, gen):
    dev = _dev(backend)
    _skip_unavailable(backend, dev)
    q, k, v = _qkv(1, 1, 17, 17, 16, torch.float32, dev, gen)
    q = (q.detach() * 300).requires_grad_()  # logits in the thousands: exp overflows unshifted
    out = hubkit.ops.attention(q, k, v, backend=backend)
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double())
    assert torch.isfinite(out).all()
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_passes_opcheck(backend, gen):
    dev = _dev(backend)
    _skip_unavailable(backend, dev)
    q, k, v = _qkv(1, 2, 9, 12, 16, torch.float32, dev, gen)
    torch.library.opcheck(torch.ops.hubkit.attention.default, (q, k, v, False, 0.25, backend))
    out, lse = torch.ops.hubkit.attention(q, k, v, True, 0.25, backend)
    g = torch.randn(out.shape, generator=gen).to(dev)
    args = (g, q.detach(), k.detach(), v.detach(), True, 0.25, out.detach(), lse, backend)
    torch.library.opcheck(torch.ops.hubkit.attention_backward.default, args)


def test_attention_works_under_torch_compile(gen):
    q, k, v = _qkv(2, 2, 11, 11, 8, torch.float32, "cpu", gen)
    fn = torch.compile(lambda q, k, v: hubkit.ops.attention(q, k, v, causal=True) * 2,
                       fullgraph=True)
    out = fn(q, k, v)
    out.sum().backward()
    want = F.scaled_dot_product_attention(q.detach(), k.detach(), v.detach(), is_causal=True) * 2
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)
    assert q.grad is not None and k.grad is not None and v.grad is not None


def test_attention_default_backend_on_cpu_is_reference():
    from hubkit._backend import resolve
    from hubkit.attention.ops import SPEC

    assert resolve(SPEC, torch.device("cpu")) == "reference"


def test_attention_leaves_inputs_unchanged(gen):
    q, k, v = _qkv(1, 2, 5, 6, 8, torch.float64, "cpu", gen)
    before = [t.detach().clone() for t in (q, k, v)]
    hubkit.ops.attention(q, k, v).sum().backward()
    assert all(torch.equal(t.detach(), b) for t, b in zip((q, k, v), before, strict=True))


def test_reference_backward_formula_matches_autograd(gen):
    q, k, v = _qkv(2, 2, 13, 13, 8, torch.float64, "cpu", gen)
    out, lse = reference.attention_forward_reference(q, k, v, True, 0.3)
    do = torch.randn(out.shape, generator=gen, dtype=torch.float64)
    want = torch.autograd.grad(out, (q, k, v), do)
    got = reference.attention_backward_reference(do, q.detach(), k.detach(), v.detach(),
                                                 out.detach(), lse.detach(), True, 0.3)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


def _t(*shape, dtype=torch.float32):
    return torch.randn(*shape, dtype=dtype)


@pytest.mark.parametrize("args,kwargs,match", [
    ((_t(2, 3, 4), _t(2, 3, 4), _t(2, 3, 4)), {}, r"q: expected 4 dims"),
    ((_t(1, 2, 4, 8), _t(2, 2, 4, 8), _t(2, 2, 4, 8)), {}, r"k: batch and heads"),
    ((_t(1, 2, 4, 8), _t(1, 2, 4, 8), _t(1, 3, 4, 8)), {}, r"v: batch and heads"),
    ((_t(1, 2, 4, 8), _t(1, 2, 4, 16), _t(1, 2, 4, 16)), {}, r"k: head dim D=16"),
    ((_t(1, 2, 4, 8), _t(1, 2, 4, 8), _t(1, 2, 5, 8)), {}, r"v: expected \(B, H, Tk, D\)"),
    ((_t(1, 2, 4, 8), _t(1, 2, 4, 8), _t(1, 2, 4, 8, dtype=torch.float64)), {}, r"v: dtype"),
    ((_t(1, 2, 0, 8), _t(1, 2, 4, 8), _t(1, 2, 4, 8)), {}, r"q: T and D must be at least 1"),
    ((torch.ones(1, 2, 4, 8, dtype=torch.int64),) * 3, {}, r"q: dtype int64"),
    ((_t(1, 2, 4, 8),) * 3, {"scale": float("nan")}, r"scale: expected a finite"),
    ((_t(1, 2, 4, 8),) * 3, {"causal": "yes"}, r"causal: expected a bool"),
    ((_t(1, 2, 4, 8),) * 3, {"backend": "cuda"}, r"backend"),
])
def test_attention_bad_input_names_the_argument(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hubkit.ops.attention(*args, **kwargs)


@pytest.mark.triton
def test_attention_triton_rejects_head_dim_above_128_by_name():
    dev = _dev("triton")
    _skip_unavailable("triton", dev)
    x = _t(1, 1, 2, 160).to(dev)
    with pytest.raises(ValueError, match=r"q: head dim D=160 is not supported by the triton"):
        hubkit.ops.attention(x, x, x, backend="triton")


@pytest.mark.triton
def test_attention_triton_pads_a_head_dim_that_is_not_a_power_of_two(gen):
    dev = _dev("triton")
    _skip_unavailable("triton", dev)
    q, k, v = _qkv(1, 1, 5, 7, 24, torch.float32, dev, gen)
    out = hubkit.ops.attention(q, k, v, causal=True, backend="triton")
    want = F.scaled_dot_product_attention(*(t.detach() for t in (q, k, v)), is_causal=True)
    torch.testing.assert_close(out, want, atol=1e-5, rtol=1e-5)
    grads = torch.autograd.grad(out.sum(), (q, k, v))
    q64, k64, v64 = (t.detach().double().requires_grad_() for t in (q, k, v))
    want_grads = torch.autograd.grad(
        F.scaled_dot_product_attention(q64, k64, v64, is_causal=True).sum(), (q64, k64, v64))
    for got, want in zip(grads, want_grads, strict=True):
        assert got.shape == want.shape
        torch.testing.assert_close(got.double(), want, atol=1e-4, rtol=1e-4)


@pytest.fixture
def cuda_machine(monkeypatch):
    """As if torch saw a GPU: lets the backend choice for CUDA tensors be tested on a CPU."""
    if "triton" not in hubkit.ops.available_backends():
        pytest.skip("triton not installed")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)


@pytest.mark.parametrize("d,dtype,match", [
    (24, torch.float64, r"q: dtype float64 is not supported by the 'triton' backend"),
    (256, torch.float32, r"q: head dim D=256 is not supported by the triton backend"),
])
def test_attention_default_on_cuda_raises_naming_q_where_triton_cannot(cuda_machine, d, dtype,
                                                                       match):
    from hubkit._backend import resolve
    from hubkit.attention.ops import ATTENTION, SPEC

    name = resolve(SPEC, torch.device("cuda"))
    assert name == "triton"  # the default on CUDA, never swapped for the reference
    q = torch.empty(1, 2, 9, d, dtype=dtype, device="meta")
    with pytest.raises(ValueError, match=match):
        ATTENTION.check_inputs(name, (q, q, q, False, 0.1))


@pytest.mark.parametrize("d", [8, 24, 80, 128])
def test_attention_default_on_cuda_takes_any_head_dim_up_to_128(cuda_machine, d):
    from hubkit.attention.ops import ATTENTION

    q = torch.empty(1, 2, 9, d, device="meta")
    ATTENTION.check_inputs("triton", (q, q, q, False, 0.1))


def test_attention_mixed_devices_raise_naming_the_argument():
    x = _t(1, 2, 4, 8)
    with pytest.raises(ValueError, match=r"k: on meta"):
        hubkit.ops.attention(x, x.to("meta"), x)


@pytest.mark.gpu
def test_attention_default_on_cuda_runs_a_head_dim_of_24_on_triton(monkeypatch):
    seen = []
    real = torch.ops.hubkit.attention
    monkeypatch.setattr(torch.ops.hubkit, "attention",
                        lambda *a: seen.append(a[-1]) or real(*a))
    x = torch.randn(1, 2, 9, 24, device="cuda")
    torch.testing.assert_close(hubkit.ops.attention(x, x, x),
                               F.scaled_dot_product_attention(x, x, x), atol=1e-4, rtol=1e-4)
    assert seen == ["triton"]


@pytest.mark.triton
def test_attention_triton_rejects_float64_by_name():
    dev = _dev("triton")
    _skip_unavailable("triton", dev)
    x = _t(1, 2, 4, 16, dtype=torch.float64).to(dev)
    with pytest.raises(ValueError, match=r"q: dtype float64"):
        hubkit.ops.attention(x, x, x, backend="triton")
