"""hubkit.ops.lstm backend="triton": the fused-cell kernel against the float64 reference.

Without a GPU these run the kernel in Triton's interpreter (tests/conftest.py sets
TRITON_INTERPRET=1 before triton is first imported); with one, on CUDA tensors.
"""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit._backend import resolve, triton_interpreted
from hubkit.rnn import reference
from hubkit.rnn.ops import SPEC

pytestmark = pytest.mark.triton

DEV = "cuda" if torch.cuda.is_available() else "cpu"
# Tolerance written next to each dtype (relative to the output's scale); the interpreter
# has no bfloat16 and float16 there is slow, so CPU runs float32 only.
TOL = {torch.float32: 2e-5, torch.float16: 1e-2, torch.bfloat16: 6e-2}
DTYPES = [torch.float32] + ([torch.float16, torch.bfloat16] if DEV == "cuda" else [])
SHAPES = [(5, 3, 7, 20), (1, 1, 1, 1), (3, 17, 4, 33)]  # T, B, I, H: odd, and past one tile


@pytest.fixture(autouse=True)
def _needs_triton():
    if "triton" not in hubkit.ops.available_backends():
        pytest.skip("triton is not installed")
    if DEV == "cpu" and not triton_interpreted():
        pytest.skip("triton on CPU tensors needs TRITON_INTERPRET=1")


def _inputs(shape, dtype, gen, *, bias=True, strided=False):
    t, b, i, h = shape
    rand = lambda *s: torch.randn(*s, generator=gen, dtype=torch.float64)  # noqa: E731
    x = rand(b, t, i).transpose(0, 1) if strided else rand(t, b, i)  # a non-contiguous view
    tensors = [x, rand(b, h), rand(b, h), rand(4 * h, i) * 0.5, rand(4 * h, h) * 0.3,
               rand(4 * h) if bias else None]
    return [None if t_ is None else t_.to(DEV, dtype).requires_grad_() for t_ in tensors]


def _grads(outputs, inputs):
    gen = torch.Generator().manual_seed(1)
    weights = [torch.randn(o.shape, generator=gen, dtype=torch.float64) for o in outputs]
    loss = sum((o * w.to(o.device, o.dtype)).sum() for o, w in zip(outputs, weights, strict=True))
    return torch.autograd.grad(loss, [t for t in inputs if t is not None])


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
def test_lstm_triton_matches_float64_reference_forward_and_backward(dtype, shape, bias, gen):
    inputs = _inputs(shape, dtype, gen, bias=bias, strided=shape[0] == 5)
    got = hubkit.ops.lstm(*inputs, backend="triton")
    got_grads = _grads(got, inputs)
    inputs64 = [None if t is None else t.detach().double().requires_grad_() for t in inputs]
    want = reference.lstm_forward_reference(*inputs64)[:3]
    want_grads = _grads(want, inputs64)
    for g, w in zip((*got, *got_grads), (*want, *want_grads), strict=True):
        assert g.dtype == dtype and g.shape == w.shape
        scale = max(float(w.detach().abs().max()), 1.0)
        torch.testing.assert_close(g.double(), w, atol=TOL[dtype] * scale, rtol=TOL[dtype])


def test_lstm_triton_saved_holds_the_gates_and_cell_states(gen):
    inputs = [t.detach() for t in _inputs((5, 3, 7, 20), torch.float32, gen)]
    got = torch.ops.hubkit.lstm(*inputs, "triton")
    want = reference.lstm_forward_reference(*inputs)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w, atol=2e-5, rtol=2e-5)


def test_lstm_triton_forward_runs_the_kernel(gen, monkeypatch):
    import hubkit.kernels.lstm as kernels

    calls = []
    real = kernels.lstm_forward
    monkeypatch.setattr(kernels, "lstm_forward", lambda *a: calls.append(1) or real(*a))
    hubkit.ops.lstm(*[t.detach() for t in _inputs((2, 2, 3, 4), torch.float32, gen)],
                    backend="triton")
    assert calls == [1]


def test_lstm_triton_passes_opcheck(gen):
    inputs = _inputs((3, 2, 4, 5), torch.float32, gen)
    torch.library.opcheck(torch.ops.hubkit.lstm.default, (*inputs, "triton"))
    y, hn, cn, saved = torch.ops.hubkit.lstm(*(t.detach() for t in inputs), "triton")
    grads = [torch.randn(t.shape, generator=gen).to(DEV) for t in (y, hn, cn)]
    torch.library.opcheck(torch.ops.hubkit.lstm_backward.default,
                          (*grads, *(t.detach() for t in inputs), y, hn, cn, saved, "triton"))


def test_lstm_triton_works_under_torch_compile(gen):
    inputs = _inputs((4, 2, 3, 6), torch.float32, gen)
    fn = torch.compile(lambda *a: hubkit.ops.lstm(*a, backend="triton")[0] * 2, fullgraph=True)
    y = fn(*inputs)
    y.sum().backward()
    want = reference.lstm_forward_reference(*(t.detach() for t in inputs))[0] * 2
    torch.testing.assert_close(y, want, atol=2e-5, rtol=2e-5)
    assert all(t.grad is not None for t in inputs)


def test_lstm_triton_is_never_the_default():
    assert resolve(SPEC, torch.device("cpu")) != "triton"
    assert SPEC.cuda[0] == "reference"  # float64 (hubkit.nn.LSTM's parity dtype) must run


@pytest.mark.parametrize(("changes", "match"), [
    (dict(dtype=torch.float64), "x: dtype float64 is not supported by the 'triton' backend"),
    (dict(w_hh=(16, 5)), r"w_hh: expected shape \(20, 5\)"),
    (dict(h0=(3, 5)), "h0: expected"),
])
def test_lstm_triton_bad_input_names_the_argument(changes, match):
    dtype = changes.get("dtype", torch.float32)
    shapes = dict(x=(3, 2, 4), h0=(2, 5), c0=(2, 5), w_ih=(20, 4), w_hh=(20, 5), bias=(20,))
    shapes |= {k: v for k, v in changes.items() if k != "dtype"}
    args = {k: torch.zeros(s, dtype=dtype, device=DEV) for k, s in shapes.items()}
    with pytest.raises(ValueError, match=match):
        hubkit.ops.lstm(**args, backend="triton")
