"""`hubkit::lstm`: one LSTM layer over a whole sequence as a torch op, forward and backward.

Backends: `reference` (`hubkit.rnn.reference.lstm_forward_reference`, BPTT by hand)
and `cpp` (the input projection of all steps as one GEMM on torch's BLAS, then
csrc/lstm/'s recurrent loop with W_hh packed once and kept in each core's cache,
gate math fused and vectorized; its backward writes the gate gradients dZ of all
steps and the weight and input gradients are again whole-sequence GEMMs; the
default on CPU), and `triton` (`hubkit.kernels.lstm`: one
fused-cell launch per step, the four gates' recurrent dots, sigmoid / tanh and the
c, h update in one kernel; by name only, on CUDA or, on CPU, under
TRITON_INTERPRET=1). The triton backward is not fused: it runs the reference BPTT
on the `saved` the kernel wrote. The forward also returns `saved`,
the activated gates and cell states the backward reads, so nothing is recomputed.

Shapes: x (T, B, I), h0 and c0 (B, H), w_ih (4H, I), w_hh (4H, H), bias (4H,)
-> y (T, B, H), h_n (B, H), c_n (B, H). Gates in torch's order i, f, g, o.
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.rnn import reference

# subtle: triton is asked for by name, never picked by default: on CUDA the default stays
# the reference, which takes float64 (hubkit.nn.LSTM's parity dtype); on CPU triton only
# runs in the interpreter.
SPEC = OpBackends("lstm", cpu=("cpp", "reference"), cuda=("reference", "triton"),
                  interpreted=("triton",))
DTYPES = {"reference": _checks.FLOATS, "cpp": (torch.float32, torch.float64),
          "triton": (torch.float32, torch.float16, torch.bfloat16)}


def _dims(x: torch.Tensor, h0: torch.Tensor) -> tuple[int, int, int, int]:
    return x.shape[0], x.shape[1], x.shape[2], h0.shape[1]


def _forward_cpp(x, h0, c0, w_ih, w_hh, bias):
    t, b, i, h = _dims(x, h0)
    y = x.new_empty(t, b, h)
    saved = x.new_empty(t, b, 5 * h)
    # Every step's input projection as one GEMM on torch's BLAS, written straight into
    # saved's gate columns (T*B, 4H) with row stride 5H: csrc/lstm/ runs only the
    # recurrence and overwrites them in place.
    # subtle: the strided out= is BLAS-compatible (unit column stride), so torch writes
    # it directly; no 4H-wide temporary of T*B rows is allocated.
    # subtle: the bias is added by the loop, not by addmm here, which would first copy it
    # into every row (one more pass over T*B x 4H).
    torch.mm(x.reshape(t * b, i), w_ih.t(), out=saved.view(t * b, 5 * h)[:, :4 * h])
    _ext.cpp_module().lstm_forward(
        0 if bias is None else bias.data_ptr(), h0.data_ptr(), c0.data_ptr(), w_hh.data_ptr(),
        y.data_ptr(), saved.data_ptr(), t, b, h, _ext.dtype_code(x.dtype))
    return y, y[-1].clone(), saved[-1, :, 4 * h:].clone(), saved


def _backward_cpp(grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh, bias, y, hn, cn, saved):
    t, b, i, h = _dims(x, h0)
    dz = x.new_empty(t * b, 4 * h)  # pre-activation gate gradients, every step
    grad_h0, grad_c0 = torch.empty_like(h0), torch.empty_like(c0)
    _ext.cpp_module().lstm_backward(
        grad_y.data_ptr(), grad_hn.data_ptr(), grad_cn.data_ptr(), c0.data_ptr(),
        w_hh.data_ptr(), saved.data_ptr(), dz.data_ptr(), grad_h0.data_ptr(),
        grad_c0.data_ptr(), t, b, h, _ext.dtype_code(x.dtype))
    # The whole-sequence GEMMs: h_{t-1} for every step is [h0; y[:-1]] (T*B, H).
    grad_x = (dz @ w_ih).view(t, b, i)
    grad_w_ih = dz.t() @ x.reshape(t * b, i)
    grad_w_hh = dz[:b].t() @ h0
    if t > 1:
        grad_w_hh.addmm_(dz[b:].t(), y[:-1].reshape((t - 1) * b, h))
    grad_bias = dz.sum(0) if bias is not None else None
    return grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias


def _forward_triton(x, h0, c0, w_ih, w_hh, bias):
    from hubkit.kernels.lstm import lstm_forward

    return lstm_forward(x, h0, c0, w_ih, w_hh, bias)


def _fake(x, h0, c0, w_ih, w_hh, bias):
    t, b, _, h = _dims(x, h0)
    return (x.new_empty(t, b, h), x.new_empty(b, h), x.new_empty(b, h),
            x.new_empty(t, b, 5 * h))


LSTM = Op(
    name="lstm",
    args="Tensor x, Tensor h0, Tensor c0, Tensor w_ih, Tensor w_hh, Tensor? bias",
    outputs=("y", "hn", "cn", "saved"), grad_outputs=("y", "hn", "cn"), save_outputs=True,
    backends=SPEC, dtypes=DTYPES,
    forward={"reference": reference.lstm_forward_reference, "cpp": _forward_cpp,
             "triton": _forward_triton},
    # subtle: triton's backward is the reference BPTT (torch ops), not a fused kernel.
    backward={"reference": reference.lstm_backward_reference, "cpp": _backward_cpp,
              "triton": reference.lstm_backward_reference},
    fake=_fake, differentiable=("x", "h0", "c0", "w_ih", "w_hh", "bias"),
)


def _check_shapes(x, h0, c0, w_ih, w_hh, bias) -> None:
    _checks.tensor("x", x, ndim=3, dtypes=_checks.FLOATS, what="(T, B, I)")
    if 0 in x.shape:
        raise ValueError(f"x: T, B and I must be at least 1, got shape {tuple(x.shape)}")
    _checks.tensor("h0", h0, ndim=2, what="(B, H)")
    t, b, i, h = _dims(x, h0)
    if h0.shape[0] != b or h < 1:
        raise ValueError(f"h0: expected (B, H) with B={b} and H >= 1, got {tuple(h0.shape)}")
    expected = {"c0": (b, h), "w_ih": (4 * h, i), "w_hh": (4 * h, h), "bias": (4 * h,)}
    for name, t_ in (("c0", c0), ("w_ih", w_ih), ("w_hh", w_hh), ("bias", bias)):
        if t_ is None and name == "bias":
            continue
        _checks.tensor(name, t_)
        if tuple(t_.shape) != expected[name]:
            raise ValueError(f"{name}: expected shape {expected[name]} (H={h} from h0, "
                             f"I={i} from x), got {tuple(t_.shape)}")


def lstm(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor, w_ih: torch.Tensor,
         w_hh: torch.Tensor, bias: torch.Tensor | None = None, *,
         backend: str | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One LSTM layer over a whole sequence, as torch.nn.LSTM computes it.

    Args:
        x: (T, B, I) inputs, time first.
        h0, c0: (B, H) initial hidden and cell state.
        w_ih: (4H, I); w_hh: (4H, H), gates stacked i, f, g, o.
        bias: (4H,) or None: torch's bias_ih + bias_hh (they only appear summed).
        backend: "reference", "cpp" or "triton" (float32/16, bf16; backward runs the
            reference BPTT); None picks by device (CPU: cpp, CUDA: reference).

    Returns:
        y (T, B, H) every step's hidden state, h_n (B, H), c_n (B, H).

    Example:
        >>> import torch, hubkit
        >>> m = torch.nn.LSTM(3, 4).double()
        >>> x = torch.randn(5, 2, 3, dtype=torch.float64)
        >>> h0 = c0 = torch.zeros(2, 4, dtype=torch.float64)
        >>> y, h, c = hubkit.ops.lstm(x, h0, c0, m.weight_ih_l0, m.weight_hh_l0,
        ...                           m.bias_ih_l0 + m.bias_hh_l0)
        >>> torch.allclose(y, m(x)[0])
        True
    """
    _check_shapes(x, h0, c0, w_ih, w_hh, bias)
    _checks.same_dtype(x=x, h0=h0, c0=c0, w_ih=w_ih, w_hh=w_hh, bias=bias)
    device = _checks.same_device(x=x, h0=h0, c0=c0, w_ih=w_ih, w_hh=w_hh, bias=bias)
    y, hn, cn, _ = LSTM(x, h0, c0, w_ih, w_hh, bias, device=device, backend=backend)
    return y, hn, cn
