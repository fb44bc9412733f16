"""hubkit.ops.lstm: every available backend against the float64 reference, forward and backward."""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit.rnn import reference

BACKENDS = ["reference", "cpp"]
DTYPES = [torch.float32, torch.float64]
TOL = {torch.float64: 1e-11, torch.float32: 2e-5}  # relative to the output's scale
SHAPES = [(1, 1, 1, 1), (7, 3, 5, 9), (4, 2, 3, 33), (3, 5, 17, 70), (2, 1, 4, 129),
          (3, 15, 4, 11), (2, 27, 3, 19)]
# T, B, I, H; B=15 runs the 8-, 4-, 2- and 1-row paths, B=27 the AVX-512 12-row one
# twice plus the 2- and 1-row ones.


def _skip_unavailable(backend: str) -> None:
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _inputs(shape, dtype, gen, *, bias=True, strided=False):
    t, b, i, h = shape
    rand = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    x = rand(b, t, i).transpose(0, 1) if strided else rand(t, b, i)  # a non-contiguous view
    w_ih = rand(i, 4 * h).T if strided else rand(4 * h, i)
    tensors = [x, rand(b, h), rand(b, h), w_ih * 0.5, rand(4 * h, h) * 0.3,
               rand(4 * h) if bias else None]
    return [None if t_ is None else t_.to(dtype).requires_grad_() for t_ in tensors]


def _grads(outputs, inputs, gen):
    weights = [torch.randn(o.shape, generator=gen, dtype=torch.float64) for o in outputs]
    loss = sum((o * w.to(o.dtype)).sum() for o, w in zip(outputs, weights, strict=True))
    live = [t for t in inputs if t is not None]
    return torch.autograd.grad(loss, live)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_lstm_matches_float64_reference_forward_and_backward(backend, dtype, shape, bias, gen):
    _skip_unavailable(backend)
    inputs = _inputs(shape, dtype, gen, bias=bias, strided=shape[0] > 3)
    got = hubkit.ops.lstm(*inputs, backend=backend)
    got_grads = _grads(got, inputs, torch.Generator().manual_seed(1))
    inputs64 = [None if t is None else t.detach().double().requires_grad_() for t in inputs]
    want = reference.lstm_forward_reference(*inputs64)[:3]
    want_grads = _grads(want, inputs64, torch.Generator().manual_seed(1))
    for g, w in zip((*got, *got_grads), (*want, *want_grads), strict=True):
        assert g.dtype == dtype and g.shape == w.shape
        scale = max(float(w.detach().abs().max()), 1.0)
        torch.testing.assert_close(g.double(), w, atol=TOL[dtype] * scale, rtol=TOL[dtype])


def test_reference_matches_torch_lstm(gen):
    lstm = torch.nn.LSTM(5, 6, dtype=torch.float64)
    x = torch.randn(7, 3, 5, generator=gen, dtype=torch.float64)
    h0, c0 = (torch.randn(3, 6, generator=gen, dtype=torch.float64) for _ in range(2))
    want, (hn, cn) = lstm(x, (h0[None], c0[None]))
    y, h, c, _ = reference.lstm_forward_reference(x, h0, c0, lstm.weight_ih_l0,
                                                  lstm.weight_hh_l0,
                                                  lstm.bias_ih_l0 + lstm.bias_hh_l0)
    torch.testing.assert_close(y, want)
    torch.testing.assert_close((h, c), (hn[0], cn[0]))


def test_manual_bptt_matches_autograd(gen):
    inputs = _inputs((6, 2, 3, 5), torch.float64, gen)
    y, hn, cn, saved = reference.lstm_forward_reference(*inputs)
    gy, ghn, gcn = (torch.randn(t.shape, generator=gen, dtype=torch.float64) for t in (y, hn, cn))
    manual = reference.lstm_backward_reference(gy, ghn, gcn, *(t.detach() for t in inputs),
                                               y.detach(), hn, cn, saved.detach())
    auto = torch.autograd.grad((y * gy).sum() + (hn * ghn).sum() + (cn * gcn).sum(), inputs)
    for m, a in zip(manual, auto, strict=True):
        torch.testing.assert_close(m, a)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_lstm_passes_opcheck(backend, dtype, gen):
    _skip_unavailable(backend)
    inputs = _inputs((3, 2, 4, 5), dtype, gen)
    torch.library.opcheck(torch.ops.hubkit.lstm.default, (*inputs, backend))
    y, hn, cn, saved = torch.ops.hubkit.lstm(*(t.detach() for t in inputs), backend)
    grads = [torch.randn(t.shape, generator=gen).to(dtype) for t in (y, hn, cn)]
    torch.library.opcheck(torch.ops.hubkit.lstm_backward.default,
                          (*grads, *(t.detach() for t in inputs), y, hn, cn, saved, backend))


def test_lstm_works_under_torch_compile(gen):
    inputs = _inputs((4, 2, 3, 6), torch.float32, gen)
    fn = torch.compile(lambda *a: hubkit.ops.lstm(*a)[0] * 2, fullgraph=True)
    y = fn(*inputs)
    y.sum().backward()
    want = reference.lstm_forward_reference(*(t.detach() for t in inputs))[0] * 2
    torch.testing.assert_close(y, want)
    assert all(t.grad is not None for t in inputs)


def test_lstm_default_backend_on_cpu_is_cpp_when_built():
    from hubkit._backend import resolve
    from hubkit.rnn.ops import SPEC

    expected = "cpp" if "cpp" in hubkit.ops.available_backends() else "reference"
    assert resolve(SPEC, torch.device("cpu")) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_lstm_leaves_inputs_unchanged(backend, gen):
    _skip_unavailable(backend)
    inputs = [t.detach() for t in _inputs((3, 2, 4, 5), torch.float64, gen)]
    before = [t.clone() for t in inputs]
    hubkit.ops.lstm(*inputs, backend=backend)
    for a, b in zip(inputs, before, strict=True):
        assert torch.equal(a, b)


def _bad(**changes):
    x, h0, c0, w_ih, w_hh, b = (torch.zeros(3, 2, 4), torch.zeros(2, 5), torch.zeros(2, 5),
                                torch.zeros(20, 4), torch.zeros(20, 5), torch.zeros(20))
    args = dict(x=x, h0=h0, c0=c0, w_ih=w_ih, w_hh=w_hh, bias=b) | changes
    return args


@pytest.mark.parametrize(("changes", "match"), [
    (dict(x=torch.zeros(3, 4)), "x: expected 3 dims"),
    (dict(x=torch.zeros(0, 2, 4)), "x: T, B and I"),
    (dict(h0=torch.zeros(3, 5)), "h0: expected"),
    (dict(c0=torch.zeros(2, 6)), r"c0: expected shape \(2, 5\)"),
    (dict(w_ih=torch.zeros(20, 3)), r"w_ih: expected shape \(20, 4\)"),
    (dict(w_hh=torch.zeros(16, 5)), r"w_hh: expected shape \(20, 5\)"),
    (dict(bias=torch.zeros(5)), r"bias: expected shape \(20,\)"),
    (dict(c0=torch.zeros(2, 5, dtype=torch.float64)), "c0: dtype"),
    (dict(x=torch.zeros(3, 2, 4, dtype=torch.int64)), "x: dtype"),
])
def test_lstm_bad_input_names_the_argument(changes, match):
    with pytest.raises(ValueError, match=match):
        hubkit.ops.lstm(**_bad(**changes))


def test_cpp_backend_rejects_half_naming_x():
    _skip_unavailable("cpp")
    args = {k: v.half() for k, v in _bad().items()}
    with pytest.raises(ValueError, match="x: dtype float16 is not supported by the 'cpp'"):
        hubkit.ops.lstm(**args, backend="cpp")
