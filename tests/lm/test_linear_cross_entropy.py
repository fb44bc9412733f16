"""hubkit.ops.linear_cross_entropy: every backend against float64 F.cross_entropy(h @ W.T + b)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import hubkit
from hubkit.lm import cross_entropy as ce

# (backend, device, dtypes it claims there); unavailable ones are skipped.
CASES = [
    ("reference", "cpu", (torch.float32, torch.float64, torch.float16, torch.bfloat16)),
    ("triton", "cpu", (torch.float32, torch.float16)),  # interpreter: no bf16
    ("reference", "cuda", (torch.float32, torch.bfloat16)),
    ("triton", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
]
# Tolerance next to each dtype, relative to the value's scale (logits are rounded to it).
TOL = {torch.float64: 1e-10, torch.float32: 2e-5, torch.float16: 1e-2, torch.bfloat16: 5e-2}
# (leading dims of h, D, V): odd sizes; several token chunks (ce.chunk_rows) in most.
SHAPES = [((1,), 1, 1), ((37,), 16, 101), ((3, 7), 5, 33), ((53,), 9, 129)]
IGNORE = -100


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    """Liger's chunk rule alone, so these small shapes span several chunks with a tail."""
    monkeypatch.setattr(ce, "MIN_CHUNK_ELEMENTS", 1)


def test_chunks_hold_about_as_many_logits_as_h_has_elements_or_the_floor(monkeypatch):
    assert ce.chunk_rows(8192, 50257, 768) == 128  # ceil(8192 / ceil(50257 / 768)) -> 2**7
    assert ce.chunk_rows(37, 101, 16) == 8
    monkeypatch.setattr(ce, "MIN_CHUNK_ELEMENTS", 1 << 22)
    assert ce.chunk_rows(1024, 8192, 256) == 512  # 4 Mi logits / 8192 words
    assert ce.chunk_rows(8192, 50257, 768) == 128


def _params(fast=lambda backend, device, dtype: True):
    """One pytest.param per (backend, device, dtype); those `fast` rejects are marked slow."""
    out = []
    for backend, device, dtypes in CASES:
        marks = [pytest.mark.gpu] if device == "cuda" else []
        if backend == "triton":
            marks.append(pytest.mark.triton)
        for dtype in dtypes:
            slow = [] if device == "cuda" or fast(backend, device, dtype) else [pytest.mark.slow]
            out.append(pytest.param(backend, device, dtype, marks=marks + slow,
                                    id=f"{backend}-{device}-{str(dtype)[6:]}"))
    return out


def _float32_reference(backend, device, dtype):
    """The CI subset of the opcheck matrix: opcheck compiles, seconds per call."""
    return backend == "reference" and dtype == torch.float32


def _skip_unavailable(backend: str, device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _inputs(lead, d, v, gen, *, dtype=torch.float32, device="cpu", bias=True, ignored=0.2,
            logit_scale=1.0):
    """h (*lead, D) as a non-contiguous view, W (V, D), b (V,), targets with some ignored."""
    h = torch.randn(d, *lead, generator=gen, dtype=torch.float64).movedim(0, -1)
    w = torch.randn(v, d, generator=gen, dtype=torch.float64) * logit_scale / d ** 0.5
    b = torch.randn(v, generator=gen, dtype=torch.float64) if bias else None
    t = torch.randint(0, v, lead, generator=gen)
    t[torch.rand(lead, generator=gen) < ignored] = IGNORE

    def cast(x):
        return None if x is None else x.to(device, dtype).requires_grad_()
    return cast(h), cast(w), cast(b), t.to(device)


def _oracle(h, w, b, t, reduction, grad_out, label_smoothing=0.0):
    """Loss and gradients of F.cross_entropy on float64 logits (torch as the outside oracle)."""
    leaves = [x.detach().double().cpu().requires_grad_() for x in (h, w, b) if x is not None]
    h64, w64, b64 = leaves[0], leaves[1], leaves[2] if b is not None else None
    z = h64 @ w64.T + (b64 if b64 is not None else 0)
    loss = F.cross_entropy(z.reshape(-1, z.shape[-1]), t.cpu().reshape(-1),
                           ignore_index=IGNORE, reduction=reduction,
                           label_smoothing=label_smoothing)
    loss = loss.reshape(t.shape) if reduction == "none" else loss
    return loss, torch.autograd.grad(loss, leaves, grad_out.double().cpu())


def _close(got, want, dtype, what):
    tol = TOL[dtype]
    assert got.dtype == dtype, what
    scale = max(float(want.detach().abs().max()), 1.0) if want.numel() else 1.0
    torch.testing.assert_close(got.detach().double().cpu(), want.detach(), atol=tol * scale,
                               rtol=tol, equal_nan=True, msg=lambda m: f"{what}: {m}")


def _run_and_compare(backend, h, w, b, t, reduction, dtype, gen, label_smoothing=0.0):
    loss = hubkit.ops.linear_cross_entropy(h, w, t, IGNORE, reduction, bias=b, backend=backend,
                                           label_smoothing=label_smoothing)
    g = torch.rand(loss.shape, generator=gen, dtype=torch.float64) + 0.5
    leaves = [x for x in (h, w, b) if x is not None]
    grads = torch.autograd.grad(loss, leaves, g.to(loss.device, dtype))
    want, want_grads = _oracle(h, w, b, t, reduction, g, label_smoothing)
    _close(loss, want, dtype, "loss")
    names = ("grad_h", "grad_weight", "grad_bias")[:len(grads)]
    for name, got, exp in zip(names, grads, want_grads, strict=True):
        _close(got, exp, dtype, name)


@pytest.mark.parametrize("backend,device,dtype",
                         _params(lambda backend, _, dtype: backend == "reference"
                                 or dtype == torch.float32))
@pytest.mark.parametrize("reduction", ce.REDUCTIONS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_linear_cross_entropy_matches_torch_forward_and_backward(backend, device, dtype,
                                                                 reduction, shape, gen):
    _skip_unavailable(backend, device)
    if backend == "triton" and shape != SHAPES[1] and device == "cpu":
        pytest.skip("the interpreter is slow: one shape here, the rest in the random-shape test")
    lead, d, v = shape
    h, w, b, t = _inputs(lead, d, v, gen, dtype=dtype, device=device,
                         bias=reduction != "sum")
    _run_and_compare(backend, h, w, b, t, reduction, dtype, gen)


@pytest.mark.triton
@pytest.mark.parametrize("seed", [1, 2])
def test_linear_cross_entropy_triton_matches_torch_on_random_odd_shapes(seed):
    _skip_unavailable("triton", "cpu")
    gen = torch.Generator().manual_seed(seed)
    n, d, v = (2 * int(x) + 1 for x in torch.randint(1, 40, (3,), generator=gen))
    reduction = ce.REDUCTIONS[seed % 3]
    h, w, b, t = _inputs((n,), d, v, gen, bias=seed % 2 == 0)
    _run_and_compare("triton", h, w, b, t, reduction, torch.float32, gen)


@pytest.mark.triton
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_linear_cross_entropy_triton_walks_several_vocab_blocks(reduction, gen):
    """V = 2500 spans three 1024-wide blocks of the kernel's online softmax (tail included)."""
    _skip_unavailable("triton", "cpu")
    h, w, b, t = _inputs((6,), 3, 2500, gen, logit_scale=4.0)
    _run_and_compare("triton", h, w, b, t, reduction, torch.float32, gen)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
def test_linear_cross_entropy_large_logits_do_not_overflow(backend, gen):
    """Logits in the hundreds: exp overflows float32 without the max subtracted first."""
    _skip_unavailable(backend, "cpu")
    h, w, b, t = _inputs((19,), 8, 70, gen, logit_scale=300.0, bias=False)
    _run_and_compare(backend, h, w, b, t, "mean", torch.float32, gen)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
@pytest.mark.parametrize("reduction,eps", [("mean", 0.1), ("sum", 1.0), ("none", 0.3)])
def test_linear_cross_entropy_label_smoothing_matches_torch(backend, reduction, eps, gen):
    _skip_unavailable(backend, "cpu")
    h, w, b, t = _inputs((29,), 7, 45, gen)
    _run_and_compare(backend, h, w, b, t, reduction, torch.float32, gen, label_smoothing=eps)


@pytest.mark.parametrize("backend", ["reference", pytest.param("triton", marks=pytest.mark.triton)])
@pytest.mark.parametrize("reduction", ce.REDUCTIONS)
def test_linear_cross_entropy_all_ignored_matches_torch(backend, reduction, gen):
    """Mean over zero counted rows is NaN (0/0) as in torch; the gradients are zeros."""
    _skip_unavailable(backend, "cpu")
    h, w, b, t = _inputs((9,), 4, 11, gen, ignored=1.0)
    loss = hubkit.ops.linear_cross_entropy(h, w, t, reduction=reduction, bias=b, backend=backend)
    want = F.cross_entropy(h.detach() @ w.detach().T + b.detach(), t, reduction=reduction)
    torch.testing.assert_close(loss.detach(), want, equal_nan=True)
    assert bool(loss.isnan().all()) == (reduction == "mean")
    grads = torch.autograd.grad(loss.sum(), (h, w, b))
    assert all(bool((g == 0).all()) for g in grads)


@pytest.mark.parametrize("reduction", ce.REDUCTIONS)
def test_linear_cross_entropy_with_no_tokens_matches_torch(reduction):
    h, w = torch.randn(0, 4, requires_grad=True), torch.randn(7, 4, requires_grad=True)
    t = torch.zeros(0, dtype=torch.int64)
    loss = hubkit.ops.linear_cross_entropy(h, w, t, reduction=reduction)
    torch.testing.assert_close(loss.detach(), F.cross_entropy(h @ w.T, t, reduction=reduction),
                               equal_nan=True)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_linear_cross_entropy_gradients_from_forward_equal_recomputed_ones(reduction, gen):
    """The forward's early gradients (grad mode) and the backward's recomputation agree."""
    h, w, b, t = (x.detach() if x.is_floating_point() else x
                  for x in _inputs((23,), 6, 41, gen, dtype=torch.float64))
    g = torch.tensor(1.7, dtype=torch.float64)
    op, bwd = torch.ops.hubkit.linear_cross_entropy, torch.ops.hubkit.linear_cross_entropy_backward
    early = op(h, w, b, t, IGNORE, reduction, 0.1, True, "reference")
    late = op(h, w, b, t, IGNORE, reduction, 0.1, False, "reference")
    assert early[1].shape == h.shape and late[1].numel() == 0  # computed in the forward or not
    got = bwd(g, h, w, b, t, IGNORE, reduction, 0.1, True, *early, "reference")
    want = bwd(g, h, w, b, t, IGNORE, reduction, 0.1, False, *late, "reference")
    for p, q in zip(got, want, strict=True):
        torch.testing.assert_close(p, q)


def test_linear_cross_entropy_in_no_grad_mode_computes_no_gradients(gen, monkeypatch):
    h, w, b, t = _inputs((5,), 4, 9, gen)
    seen = []
    real = ce.chunked_grads

    def spy(h, weight, bias, targets, ignore_index, label_smoothing, scale, *rest, **kw):
        seen.append(scale.numel())
        return real(h, weight, bias, targets, ignore_index, label_smoothing, scale, *rest, **kw)
    monkeypatch.setattr(ce, "chunked_grads", spy)
    with torch.no_grad():
        hubkit.ops.linear_cross_entropy(h, w, t, bias=b)
    hubkit.ops.linear_cross_entropy(h, w, t, bias=b)
    assert seen == [0, 5]  # loss alone, then loss and gradients of all 5 rows


class _Allocations(TorchDispatchMode):
    """Records the number of elements of every tensor torch ops create while active."""

    def __init__(self):
        super().__init__()
        self.sizes: list[int] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for x in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(x, torch.Tensor):
                self.sizes.append(x.untyped_storage().nbytes() // x.element_size())
        return out


@pytest.mark.parametrize("reduction", ce.REDUCTIONS)
def test_linear_cross_entropy_never_allocates_the_full_logits(reduction, gen):
    """Forward and backward allocate nothing near N x V: at most one chunk of rows."""
    n, d, v = 200, 8, 300
    h, w, _, t = _inputs((n,), d, v, gen, bias=False)
    h, w = h.detach(), w.detach()
    step = ce.chunk_rows(n, v, d)
    assert 1 < step < n // 4
    with _Allocations() as seen:
        out = ce.linear_cross_entropy_chunked(h, w, None, t, IGNORE, reduction, 0.0, True)
        ce.linear_cross_entropy_backward_chunked(torch.ones_like(out[0]), h, w, None, t, IGNORE,
                                                 reduction, 0.0, True, *out)
    assert max(seen.sizes) <= max(step * v, v * d, n * d)


def test_linear_cross_entropy_flattens_leading_dims_like_torch(gen):
    h, w, b, t = _inputs((2, 3, 5), 4, 13, gen)
    loss = hubkit.ops.linear_cross_entropy(h, w, t, reduction="none", bias=b)
    assert loss.shape == (2, 3, 5)
    want = F.cross_entropy((h @ w.T + b).reshape(-1, 13), t.reshape(-1), reduction="none")
    torch.testing.assert_close(loss, want.reshape(2, 3, 5))


@pytest.mark.parametrize("d", [4, 0], ids=["unbatched", "zero-features"])
def test_linear_cross_entropy_takes_one_token_or_zero_features_like_torch(d, gen):
    h, w = torch.randn(d, generator=gen), torch.randn(5, d, generator=gen)
    for t in (torch.tensor(2), torch.tensor([2])):
        x = h if t.dim() == 0 else h[None]
        loss = hubkit.ops.linear_cross_entropy(x, w, t, reduction="none")
        torch.testing.assert_close(loss, F.cross_entropy(x @ w.T, t, reduction="none"))


def test_linear_cross_entropy_leaves_inputs_unchanged(gen):
    ts = _inputs((7,), 5, 12, gen, dtype=torch.float64)
    before = [x.detach().clone() for x in ts]
    hubkit.ops.linear_cross_entropy(ts[0], ts[1], ts[3], bias=ts[2]).backward()
    assert all(torch.equal(x.detach(), x0) for x, x0 in zip(ts, before, strict=True))


def test_linear_cross_entropy_default_backend_on_cpu_is_reference():
    from hubkit._backend import resolve
    from hubkit.lm.ops import SPEC

    assert resolve(SPEC, torch.device("cpu")) == "reference"


@pytest.mark.parametrize("backend,device,dtype", _params(_float32_reference))
@pytest.mark.parametrize("reduction,with_grad,with_bias", [
    ("mean", True, True), ("none", True, False), ("sum", False, True)],
    ids=["mean-early-grads-bias", "none-no-bias", "sum-no-early-grads"])
def test_linear_cross_entropy_passes_opcheck(backend, device, dtype, reduction, with_grad,
                                             with_bias, gen):
    _skip_unavailable(backend, device)
    h, w, b, t = _inputs((6,), 5, 9, gen, dtype=dtype, device=device, bias=with_bias)
    fwd = torch.ops.hubkit.linear_cross_entropy.default
    torch.library.opcheck(fwd, (h, w, b, t, IGNORE, reduction, 0.1, with_grad, backend))
    plain = [x.detach() if x is not None else None for x in (h, w, b)]
    outs = fwd(*plain, t, IGNORE, reduction, 0.1, with_grad, backend)
    g = torch.rand(outs[0].shape, generator=gen).to(device, dtype)
    torch.library.opcheck(torch.ops.hubkit.linear_cross_entropy_backward.default,
                          (g, *plain, t, IGNORE, reduction, 0.1, with_grad, *outs, backend))


def test_linear_cross_entropy_works_under_torch_compile(gen):
    h, w, b, t = _inputs((11,), 6, 17, gen)
    fn = torch.compile(lambda *a: hubkit.ops.linear_cross_entropy(a[0], a[1], a[3], bias=a[2])
                       * 2, fullgraph=True)
    loss = fn(h, w, b, t)
    loss.backward()
    want, want_grads = _oracle(h, w, b, t, "mean", torch.tensor(2.0))
    torch.testing.assert_close(loss.double(), want * 2)
    for got, exp in zip((h.grad, w.grad, b.grad), want_grads, strict=True):
        torch.testing.assert_close(got.double(), exp, atol=1e-5, rtol=1e-5)


def _bad(**change):
    args = {"h": torch.ones(3, 4), "weight": torch.ones(5, 4), "targets": torch.tensor([0, 4, 1]),
            "ignore_index": -100, "reduction": "mean", "bias": None}
    args.update(change)
    return args


@pytest.mark.parametrize("args,match", [
    (_bad(weight=torch.ones(5, 3)), "weight: expected"),
    (_bad(weight=torch.ones(0, 4)), "weight: expected"),
    (_bad(weight=torch.ones(20)), "weight: expected 2 dims"),
    (_bad(h=torch.ones(3, 4, dtype=torch.int64)), "h: dtype"),
    (_bad(weight=torch.ones(5, 4, dtype=torch.float64)), "weight: dtype"),
    (_bad(bias=torch.ones(4)), "bias: expected shape"),
    (_bad(targets=torch.tensor([0, 4, 1], dtype=torch.int32)), "targets: dtype"),
    (_bad(targets=torch.tensor([0, 4])), "targets: expected shape"),
    (_bad(targets=torch.tensor([0, 5, 1])), r"targets: expected values in \[0, 5\)"),
    (_bad(targets=torch.tensor([0, -1, 1])), "targets: expected values"),
    (_bad(reduction="avg"), "reduction: expected one of"),
    (_bad(ignore_index=True), "ignore_index: expected an int"),
    (_bad(ignore_index=-1.0), "ignore_index: expected an int"),
    (_bad(label_smoothing=1.5), r"label_smoothing: expected a number in \[0, 1\]"),
    (_bad(label_smoothing=-0.1), "label_smoothing: expected a number"),
], ids=["weight-D", "weight-V0", "weight-1d", "int-h", "dtype", "bias", "int32-targets",
        "targets-shape", "target-too-big", "target-negative", "reduction", "bool-ignore",
        "float-ignore", "smoothing-above-1", "negative-smoothing"])
def test_linear_cross_entropy_bad_input_raises_value_error_naming_the_argument(args, match):
    with pytest.raises(ValueError, match=match):
        hubkit.ops.linear_cross_entropy(**args)


@pytest.mark.triton
def test_linear_cross_entropy_triton_refuses_float64_naming_h():
    _skip_unavailable("triton", "cpu")
    args = _bad(h=torch.ones(3, 4, dtype=torch.float64),
                weight=torch.ones(5, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="h: dtype float64 is not supported by the 'triton'"):
        hubkit.ops.linear_cross_entropy(**args, backend="triton")


@pytest.mark.gpu
@pytest.mark.triton
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_linear_cross_entropy_triton_on_gpu_at_a_vocab_past_the_block_width(dtype, gen):
    """V = 20011 spans three 8192-wide blocks; 1031 tokens make several chunks."""
    _skip_unavailable("triton", "cuda")
    h, w, b, t = _inputs((1031,), 96, 20011, gen, dtype=dtype, device="cuda")
    _run_and_compare("triton", h, w, b, t, "mean", dtype, gen)
