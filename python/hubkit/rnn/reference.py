"""Recurrent cells written out, and backpropagation through time by hand: the spec.

A recurrent network reads a sequence one step at a time and carries a state
from step to step (Elman, 1990). Three cells, with torch's gate orders and
weight layouts so their parameters load into torch.nn.RNN/LSTM/GRU as they are:

    RNN   h' = tanh(W_ih x + b_ih + W_hh h + b_hh)          (or relu)
    LSTM  i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)  (Hochreiter & Schmidhuber,
          c' = sigmoid(f) * c + sigmoid(i) * tanh(g)          1997; forget gate: Gers
          h' = sigmoid(o) * tanh(c')   (then W_hr h' with      et al., 2000)
                                        proj_size, Sak et al., 2014)
    GRU   r, z = sigmoid(W_i{r,z} x + b_i{r,z} + W_h{r,z} h + b_h{r,z})   (Cho et al., 2014)
          n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
          h' = (1 - z) * n + z * h

`scan` runs any cell over a padded sequence, with per-sequence lengths (what a
PackedSequence holds); autograd through it is BPTT. `lstm_forward_reference` /
`lstm_backward_reference` spell BPTT out for one LSTM layer: they are the spec
of `hubkit.ops.lstm`, and `rnn_forward` / `rnn_backward` do the same for the
vanilla RNN.

Shape legend: T time, B batch, I input features, H hidden size, P proj size.
"""

from __future__ import annotations

import torch

State = tuple[torch.Tensor, ...]


def _linear(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    return x @ w.T if b is None else x @ w.T + b


def rnn_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None,
             nonlinearity: str = "tanh") -> torch.Tensor:
    """One Elman RNN step.

    Args:
        x: (B, I) input; h: (B, H) previous state.
        w_ih: (H, I); w_hh: (H, H); b_ih, b_hh: (H,) or None.
        nonlinearity: "tanh" or "relu".

    Returns:
        (B, H) next state.

    Example:
        >>> x, h = torch.zeros(1, 2), torch.zeros(1, 3)
        >>> rnn_cell(x, h, torch.ones(3, 2), torch.ones(3, 3)).shape
        torch.Size([1, 3])
    """
    z = _linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    return torch.tanh(z) if nonlinearity == "tanh" else torch.relu(z)


def lstm_cell(x: torch.Tensor, state: State, w_ih: torch.Tensor, w_hh: torch.Tensor,
              b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None,
              w_hr: torch.Tensor | None = None) -> State:
    """One LSTM step; gates in torch's order i, f, g, o.

    Args:
        x: (B, I); state: (h (B, P or H), c (B, H)).
        w_ih: (4H, I); w_hh: (4H, P or H); b_ih, b_hh: (4H,) or None; w_hr: (P, H) or None.

    Returns:
        (h', c'): (B, P or H), (B, H).
    """
    h, c = state
    i, f, g, o = (_linear(x, w_ih, b_ih) + _linear(h, w_hh, b_hh)).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * torch.tanh(c)
    return (h if w_hr is None else h @ w_hr.T), c


def gru_cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
             b_ih: torch.Tensor | None = None, b_hh: torch.Tensor | None = None) -> torch.Tensor:
    """One GRU step; gates in torch's order r, z, n.

    Args:
        x: (B, I); h: (B, H); w_ih: (3H, I); w_hh: (3H, H); b_ih, b_hh: (3H,) or None.

    Returns:
        (B, H) next state.
    """
    xr, xz, xn = _linear(x, w_ih, b_ih).chunk(3, dim=-1)
    # subtle: the reset gate multiplies W_hn h + b_hn, bias included (torch and cuDNN);
    # the GRU paper applies it to h before the matmul, which is a different model.
    hr, hz, hn = _linear(h, w_hh, b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
    n = torch.tanh(xn + r * hn)
    return (1 - z) * n + z * h


def scan(step, x: torch.Tensor, state: State, lengths: torch.Tensor | None = None,
         reverse: bool = False) -> tuple[torch.Tensor, State]:
    """Run `step(x_t, state) -> state` over time; state[0] is the output at each step.

    Args:
        step: a cell with its weights bound, taking and returning a tuple of states.
        x: (T, B, I) padded inputs.
        state: tuple of (B, *) initial states.
        lengths: (B,) valid steps of each sequence (None: all T). Past its length a
            sequence's state stops changing and its output is zero.
        reverse: read the sequence from its last valid step to its first.

    Returns:
        (outputs (T, B, *), final state tuple).
    """
    outputs = [None] * x.shape[0]
    order = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    for t in order:
        new = step(x[t], state)
        if lengths is not None:
            # subtle: run backwards from T-1 with this mask, the state stays at its
            # initial value until t = length-1: each sequence is reversed within its length.
            live = (lengths > t).unsqueeze(1)
            new = tuple(torch.where(live, n, s) for n, s in zip(new, state, strict=True))
            outputs[t] = torch.where(live, new[0], torch.zeros_like(new[0]))
        else:
            outputs[t] = new[0]
        state = new
    return torch.stack(outputs), state


# -- BPTT by hand ----------------------------------------------------------------------


def rnn_forward(x: torch.Tensor, h0: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                b: torch.Tensor) -> torch.Tensor:
    """Tanh RNN over a sequence: h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b).

    Args:
        x: (T, B, I); h0: (B, H); w_ih: (H, I); w_hh: (H, H); b: (H,).

    Returns:
        hs: (T, B, H), the state after every step.
    """
    hs, h = [], h0
    for t in range(x.shape[0]):
        h = torch.tanh(x[t] @ w_ih.T + h @ w_hh.T + b)
        hs.append(h)
    return torch.stack(hs)


def rnn_backward(grad_hs: torch.Tensor, x: torch.Tensor, h0: torch.Tensor, w_ih: torch.Tensor,
                 w_hh: torch.Tensor, hs: torch.Tensor):
    """Backpropagation through time for `rnn_forward`, step by step from the end.

    The gradient reaching h_{t-1} is (dL/dh_t * (1 - h_t^2)) @ W_hh: multiplied by
    W_hh and by tanh' once per step back, so it shrinks or grows geometrically.

    Args:
        grad_hs: (T, B, H) dL/dh_t from the loss at each step.
        x, h0, w_ih, w_hh: the forward's inputs; hs: its output.

    Returns:
        (grad_x (T, B, I), grad_h0 (B, H), grad_w_ih, grad_w_hh, grad_b).
    """
    prev = torch.cat([h0.unsqueeze(0), hs[:-1]])  # (T, B, H): h_{t-1}
    dh = torch.zeros_like(h0)
    dzs = torch.empty_like(hs)
    for t in range(x.shape[0] - 1, -1, -1):
        dh = dh + grad_hs[t]
        dzs[t] = dh * (1 - hs[t] ** 2)  # through tanh
        dh = dzs[t] @ w_hh  # to h_{t-1}
    flat = dzs.reshape(-1, dzs.shape[-1])
    return (dzs @ w_ih, dh, flat.T @ x.reshape(-1, x.shape[-1]),
            flat.T @ prev.reshape(-1, prev.shape[-1]), flat.sum(0))


def lstm_forward_reference(x: torch.Tensor, h0: torch.Tensor, c0: torch.Tensor,
                           w_ih: torch.Tensor, w_hh: torch.Tensor, bias: torch.Tensor | None):
    """One LSTM layer, one direction, over a whole sequence (the spec of `hubkit.ops.lstm`).

    Args:
        x: (T, B, I); h0, c0: (B, H); w_ih: (4H, I); w_hh: (4H, H); bias: (4H,) or None
            (b_ih + b_hh: the two biases only ever appear summed).

    Returns:
        y (T, B, H), h_n (B, H), c_n (B, H), and saved (T, B, 5H): the activated gates
        i, f, g, o and the cell state c_t at every step, which the backward reads.
    """
    gx = _linear(x, w_ih, bias)  # (T, B, 4H): the input projection, one matmul for all steps
    h, c, ys, saved = h0, c0, [], []
    for t in range(x.shape[0]):
        i, f, g, o = (gx[t] + h @ w_hh.T).chunk(4, dim=-1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c + i * g
        h = o * torch.tanh(c)
        ys.append(h)
        saved.append(torch.cat([i, f, g, o, c], dim=-1))
    return torch.stack(ys), h, c, torch.stack(saved)


def lstm_backward_reference(grad_y, grad_hn, grad_cn, x, h0, c0, w_ih, w_hh, bias, y, hn, cn,
                            saved):
    """BPTT for `lstm_forward_reference`: gradients of every input.

    Args:
        grad_y: (T, B, H); grad_hn, grad_cn: (B, H); then the forward's inputs and outputs.

    Returns:
        (grad_x, grad_h0, grad_c0, grad_w_ih, grad_w_hh, grad_bias), each shaped like its input.
    """
    hidden = h0.shape[-1]
    prev_h = torch.cat([h0.unsqueeze(0), y[:-1]])  # (T, B, H): h_{t-1}
    dz = torch.empty_like(saved[..., :4 * hidden])  # (T, B, 4H): gradient at the gates' inputs
    dh, dc = grad_hn.clone(), grad_cn.clone()
    for t in range(x.shape[0] - 1, -1, -1):
        i, f, g, o, c = saved[t].split(hidden, dim=-1)
        c_prev = saved[t - 1, :, 4 * hidden:] if t > 0 else c0
        dh = dh + grad_y[t]
        tc = torch.tanh(c)
        dc = dc + dh * o * (1 - tc * tc)
        dz[t] = torch.cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f),
                           dc * i * (1 - g * g), dh * tc * o * (1 - o)], dim=-1)
        dh, dc = dz[t] @ w_hh, dc * f
    flat = dz.reshape(-1, 4 * hidden)
    grad_w_ih = flat.T @ x.reshape(-1, x.shape[-1])
    grad_w_hh = flat.T @ prev_h.reshape(-1, hidden)
    grad_bias = flat.sum(0) if bias is not None else None
    return dz @ w_ih, dh, dc, grad_w_ih, grad_w_hh, grad_bias
