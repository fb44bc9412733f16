"""One LSTM cell in NumPy: the forward step, and its backward pass by the chain rule.

Shapes: B batch, I input size, H hidden size. The four gates are stacked in
torch's order i, f, g, o: rows 0..H-1 of w_ih, w_hh and b belong to the input
gate, H..2H-1 to the forget gate, 2H..3H-1 to the candidate g, 3H..4H-1 to the
output gate.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def lstm_cell_forward(x, h, c, w_ih, w_hh, b):
    """One step: x (B, I), h and c (B, H), w_ih (4H, I), w_hh (4H, H), b (4H,).

    Returns (h_next (B, H), c_next (B, H), cache): cache is anything your
    backward needs; the checker only passes it back to lstm_cell_backward.
    """
    # BEGIN SOLUTION
    # starter> # Step 1: z = x w_ih^T + h w_hh^T + b, shape (B, 4H); split it into i, f, g, o.
    # starter> # Step 2: i, f, o through sigmoid, g through tanh.
    # starter> # Step 3: c_next = f * c + i * g;  h_next = o * tanh(c_next).
    # starter> raise NotImplementedError("not implemented yet")
    hidden = h.shape[1]
    z = x @ w_ih.T + h @ w_hh.T + b  # (B, 4H)
    i = sigmoid(z[:, :hidden])
    f = sigmoid(z[:, hidden:2 * hidden])
    g = np.tanh(z[:, 2 * hidden:3 * hidden])
    o = sigmoid(z[:, 3 * hidden:])
    c_next = f * c + i * g
    tc = np.tanh(c_next)
    h_next = o * tc
    return h_next, c_next, (x, h, c, w_ih, w_hh, i, f, g, o, tc)
    # END SOLUTION


def lstm_cell_backward(dh_next, dc_next, cache):
    """Gradients of a loss L, given dL/dh_next and dL/dc_next (both (B, H)).

    Returns (dx, dh, dc, dw_ih, dw_hh, db), each shaped like its input.
    """
    # BEGIN SOLUTION
    # starter> # Step 4: c_next reaches L directly (dc_next) and through h_next = o * tanh(c_next).
    # starter> # Step 5: the gradient at each gate's pre-activation (multiply by sigmoid' or tanh').
    # starter> # Step 6: dz (B, 4H) back through the two matmuls; db sums dz over the batch.
    # starter> raise NotImplementedError("not implemented yet")
    x, h, c, w_ih, w_hh, i, f, g, o, tc = cache
    dc_total = dc_next + dh_next * o * (1.0 - tc * tc)
    dz = np.concatenate([dc_total * g * i * (1.0 - i),      # input gate
                         dc_total * c * f * (1.0 - f),      # forget gate
                         dc_total * i * (1.0 - g * g),      # candidate
                         dh_next * tc * o * (1.0 - o)],     # output gate
                        axis=1)
    return dz @ w_ih, dz @ w_hh, dc_total * f, dz.T @ x, dz.T @ h, dz.sum(axis=0)
    # END SOLUTION
