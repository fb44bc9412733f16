"""hubkit.ops.lora_linear: every available backend against the float64 reference."""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit.peft import reference

# (backend, device, dtypes it claims on that device); unavailable ones are skipped.
CASES = [
    ("reference", "cpu", (torch.float32, torch.float64)),
    ("triton", "cpu", (torch.float32, torch.float16)),  # interpreter: no bf16
    ("reference", "cuda", (torch.float32, torch.bfloat16)),
    ("triton", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
]
# Tolerance next to each dtype, relative to the output's scale.
TOL = {torch.float64: 1e-12, torch.float32: 2e-5, torch.float16: 4e-3, torch.bfloat16: 3e-2}
# (leading dims of x, K, N, r): odd sizes, tails past every tile, r = min(K, N).
SHAPES = [((1,), 1, 1, 1), ((37,), 29, 23, 5), ((3, 7), 33, 17, 17), ((2, 5, 3), 19, 41, 3),
          ((163,), 21, 37, 3)]  # 163 rows: more row tiles than one group of the tile order


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


def _inputs(lead, k, n, r, dtype, device, gen, *, bias=True, transpose=False):
    x = torch.randn(*lead, k, generator=gen, dtype=torch.float64)
    if transpose and x.dim() >= 2:  # a non-contiguous view of the same values
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)
    w = torch.randn(n, k, generator=gen, dtype=torch.float64) / k ** 0.5
    if transpose:  # stored (K, N), as GPT-2's Conv1D keeps it: read by strides, not copied
        w = w.t().contiguous().t()
    b = torch.randn(n, generator=gen, dtype=torch.float64) if bias else None
    a = torch.randn(r, k, generator=gen, dtype=torch.float64) / k ** 0.5
    bb = torch.randn(n, r, generator=gen, dtype=torch.float64) / r ** 0.5

    def cast(t, grad=True):
        return None if t is None else t.to(device, dtype).requires_grad_(grad)
    return cast(x), cast(w, False), cast(b), cast(a), cast(bb)


def _check_close(got, want, dtype):
    tol = TOL[dtype]
    assert got.dtype == dtype
    scale = max(float(want.detach().abs().max()), 1.0)
    torch.testing.assert_close(got.double().cpu(), want.cpu(), atol=tol * scale, rtol=tol)


@pytest.mark.parametrize("backend,device,dtype", _params())
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_lora_linear_matches_float64_reference_forward_and_backward(backend, device, dtype,
                                                                    shape, gen):
    _skip_unavailable(backend, device)
    lead, k, n, r = shape
    x, w, b, a, bb = _inputs(lead, k, n, r, dtype, device, gen, transpose=True)
    y = hubkit.ops.lora_linear(x, w, b, a, bb, 1.75, backend=backend)
    g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(device, dtype)
    grads = torch.autograd.grad(y, (x, b, a, bb), g)

    x64, b64, a64, bb64 = (t.detach().double().requires_grad_() for t in (x, b, a, bb))
    y64 = reference.lora_linear_reference(x64, w.double(), b64, a64, bb64, 1.75)
    grads64 = torch.autograd.grad(y64, (x64, b64, a64, bb64), g.double())
    _check_close(y, y64, dtype)
    for got, want in zip(grads, grads64, strict=True):
        _check_close(got, want, dtype)


@pytest.mark.triton
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_lora_linear_triton_matches_reference_on_random_odd_shapes(seed):
    _skip_unavailable("triton", "cpu")
    gen = torch.Generator().manual_seed(seed)
    m, k, n = (2 * int(v) + 1 for v in torch.randint(1, 24, (3,), generator=gen))
    r = 2 * int(torch.randint(0, (min(k, n) + 1) // 2, (1,), generator=gen)) + 1  # odd, <= K, N
    x, w, b, a, bb = _inputs((m,), k, n, r, torch.float32, "cpu", gen)
    y = hubkit.ops.lora_linear(x, w, b, a, bb, 0.9, backend="triton")
    g = torch.randn(y.shape, generator=gen)
    grads = torch.autograd.grad(y, (x, b, a, bb), g)
    x64, b64, a64, bb64 = (t.detach().double().requires_grad_() for t in (x, b, a, bb))
    y64 = reference.lora_linear_reference(x64, w.double(), b64, a64, bb64, 0.9)
    _check_close(y, y64, torch.float32)
    grads64 = torch.autograd.grad(y64, (x64, b64, a64, bb64), g.double())
    for got, want in zip(grads, grads64, strict=True):
        _check_close(got, want, torch.float32)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_lora_linear_without_bias_matches_reference(backend, gen):
    _skip_unavailable(backend, "cpu")
    x, w, _, a, bb = _inputs((9,), 21, 13, 3, torch.float32, "cpu", gen, bias=False)
    y = hubkit.ops.lora_linear(x, w, None, a, bb, 0.5, backend=backend)
    want = reference.lora_linear_reference(*(t.detach().double() for t in (x, w)), None,
                                           a.detach().double(), bb.detach().double(), 0.5)
    _check_close(y, want, torch.float32)


def test_lora_linear_backward_formula_matches_autograd_of_reference(gen):
    x, w, b, a, bb = _inputs((4, 3), 7, 5, 2, torch.float64, "cpu", gen)
    y = reference.lora_linear_reference(x, w, b, a, bb, 0.3)
    g = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    want = torch.autograd.grad(y, (x, a, bb, b), g)
    got = reference.lora_linear_backward_reference(g, x.detach(), w, a.detach(), bb.detach(),
                                                   0.3)
    for p, q in zip(got, want, strict=True):
        torch.testing.assert_close(p, q)


@pytest.mark.parametrize("backend,device,dtype", _params())
def test_lora_linear_passes_opcheck(backend, device, dtype, gen):
    _skip_unavailable(backend, device)
    x, w, b, a, bb = _inputs((5,), 19, 11, 3, dtype, device, gen)
    torch.library.opcheck(torch.ops.hubkit.lora_linear.default, (x, w, b, a, bb, 0.5, backend))
    g = torch.randn(5, 11, generator=gen).to(device, dtype)
    args = (g, x.detach(), w, b.detach(), a.detach(), bb.detach(), 0.5, backend)
    torch.library.opcheck(torch.ops.hubkit.lora_linear_backward.default, args)
    args = (g, x.detach(), w, None, a.detach(), bb.detach(), 0.5, backend)
    torch.library.opcheck(torch.ops.hubkit.lora_linear_backward.default, args)


def test_lora_linear_default_backend_on_cpu_is_reference():
    from hubkit._backend import resolve
    from hubkit.peft.ops import SPEC

    assert resolve(SPEC, torch.device("cpu")) == "reference"


def test_lora_linear_works_under_torch_compile(gen):
    x, w, b, a, bb = _inputs((4,), 9, 6, 2, torch.float32, "cpu", gen)
    fn = torch.compile(lambda *t: hubkit.ops.lora_linear(*t, 2.0) * 2, fullgraph=True)
    y = fn(x, w, b, a, bb)
    y.sum().backward()
    want = reference.lora_linear_reference(x.detach(), w, b.detach(), a.detach(), bb.detach(),
                                           2.0) * 2
    torch.testing.assert_close(y, want)
    assert x.grad is not None and a.grad is not None and bb.grad is not None


def test_lora_linear_leaves_inputs_unchanged(gen):
    ts = _inputs((5,), 6, 4, 2, torch.float64, "cpu", gen)
    before = [t.detach().clone() for t in ts]
    hubkit.ops.lora_linear(*ts, 1.0).sum().backward()
    assert all(torch.equal(t.detach(), t0) for t, t0 in zip(ts, before, strict=True))


def test_lora_linear_refuses_a_weight_that_requires_grad(gen):
    x, w, b, a, bb = _inputs((3,), 6, 4, 2, torch.float32, "cpu", gen)
    with pytest.raises(ValueError, match="weight: requires_grad=True"):
        hubkit.ops.lora_linear(x, w.requires_grad_(), b, a, bb, 1.0)


def _bad(**change):
    args = {"x": torch.ones(2, 6), "weight": torch.ones(4, 6), "bias": torch.ones(4),
            "lora_a": torch.ones(2, 6), "lora_b": torch.ones(4, 2), "scale": 1.0}
    args.update(change)
    return args


@pytest.mark.parametrize("args,match", [
    (_bad(weight=torch.ones(4, 5)), "weight: expected"),
    (_bad(lora_a=torch.ones(2, 5)), "lora_a: expected"),
    (_bad(lora_b=torch.ones(4, 3)), "lora_b: expected"),
    (_bad(lora_b=torch.ones(2, 4)), "lora_b: expected"),
    (_bad(lora_a=torch.ones(5, 6), lora_b=torch.ones(4, 5)), "r: expected"),
    (_bad(bias=torch.ones(3)), "bias: expected shape"),
    (_bad(lora_b=torch.ones(4, 2, dtype=torch.float64)), "lora_b: dtype"),
    (_bad(x=torch.ones(2, 6, dtype=torch.int64)), "x: dtype"),
    (_bad(scale=float("nan")), "scale: expected"),
    (_bad(lora_a=torch.ones(6)), "lora_a: expected 2 dims"),
], ids=["weight-K", "a-K", "b-rank", "b-swapped", "rank-too-big", "bias", "dtype", "int-x",
        "nan-scale", "a-1d"])
def test_lora_linear_bad_input_raises_value_error_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        hubkit.ops.lora_linear(**args)


@pytest.mark.gpu
@pytest.mark.triton
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize("r", [16, 64])
def test_lora_linear_triton_on_gpu_with_several_tiles_in_every_dim(dtype, r, gen):
    """Shapes past the GPU tile sizes (128/64), so the K and N loops run several times."""
    _skip_unavailable("triton", "cuda")
    x, w, b, a, bb = _inputs((1031,), 520, 777, r, dtype, "cuda", gen)
    y = hubkit.ops.lora_linear(x, w, b, a, bb, 2.0, backend="triton")
    g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to("cuda", dtype)
    grads = torch.autograd.grad(y, (x, b, a, bb), g)
    x64, b64, a64, bb64 = (t.detach().double().requires_grad_() for t in (x, b, a, bb))
    y64 = reference.lora_linear_reference(x64, w.double(), b64, a64, bb64, 2.0)
    grads64 = torch.autograd.grad(y64, (x64, b64, a64, bb64), g.double())
    _check_close(y, y64, dtype)
    for got, want in zip(grads, grads64, strict=True):
        _check_close(got, want, dtype)
