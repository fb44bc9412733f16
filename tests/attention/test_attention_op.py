"""hubkit.ops.attention: reference and triton backends vs torch's scaled_dot_product_attention."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import hubkit
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
]


def _params():
    out = []
    for backend, device, dtypes in CASES:
        marks = [pytest.mark.gpu] if device == "cuda" else []
        if backend == "triton":
            marks.append(pytest.mark.triton)
        for dtype in dtypes:
            out.append(pytest.param(backend, device, dtype, marks=marks,
                                    id=f"{backend}-{device}-{str(dtype)[6:]}"))
    return out


def _skip_unavailable(backend: str, device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


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


@pytest.mark.parametrize("backend,device,dtype", _params())
@pytest.mark.parametrize("shape", SHAPES, ids=str)
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
def test_attention_triton_handles_t_1000_and_d_64(gen):
    _skip_unavailable("triton", "cpu")
    q, k, v = _qkv(1, 1, 1000, 1000, 64, torch.float32, "cpu", gen)
    out = hubkit.ops.attention(q, k, v, causal=True, backend="triton")
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), is_causal=True)
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_custom_scale_matches_sdpa(backend, gen):
    _skip_unavailable(backend, "cpu")
    q, k, v = _qkv(1, 2, 19, 23, 16, torch.float32, "cpu", gen)
    out = hubkit.ops.attention(q, k, v, scale=0.37, backend=backend)
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double(), scale=0.37)
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_survives_large_logits(backend, gen):
    _skip_unavailable(backend, "cpu")
    q, k, v = _qkv(1, 1, 17, 17, 16, torch.float32, "cpu", gen)
    q = (q.detach() * 300).requires_grad_()  # logits in the thousands: exp overflows unshifted
    out = hubkit.ops.attention(q, k, v, backend=backend)
    want = F.scaled_dot_product_attention(q.double(), k.double(), v.double())
    assert torch.isfinite(out).all()
    _close(out, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_attention_passes_opcheck(backend, gen):
    _skip_unavailable(backend, "cpu")
    q, k, v = _qkv(1, 2, 9, 12, 16, torch.float32, "cpu", gen)
    torch.library.opcheck(torch.ops.hubkit.attention.default, (q, k, v, False, 0.25, backend))
    out, lse = torch.ops.hubkit.attention(q, k, v, True, 0.25, backend)
    g = torch.randn(out.shape, generator=gen)
    args = (g, q.detach(), k.detach(), v.detach(), out.detach(), lse, True, 0.25, backend)
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
def test_attention_triton_rejects_unsupported_head_dim_by_name():
    _skip_unavailable("triton", "cpu")
    x = _t(1, 2, 4, 24)
    with pytest.raises(ValueError, match=r"q: head dim D=24 is not supported by the triton"):
        hubkit.ops.attention(x, x, x, backend="triton")


def test_attention_mixed_devices_raise_naming_the_argument():
    x = _t(1, 2, 4, 8)
    with pytest.raises(ValueError, match=r"k: on meta"):
        hubkit.ops.attention(x, x.to("meta"), x)


@pytest.mark.gpu
def test_attention_default_on_cuda_falls_back_to_reference_for_unsupported_d(gen):
    x = torch.randn(1, 2, 9, 24, device="cuda")
    torch.testing.assert_close(hubkit.ops.attention(x, x, x),
                               F.scaled_dot_product_attention(x, x, x), atol=1e-4, rtol=1e-4)
