"""The two-layer MLP in PyTorch (exercise torch_mlp).

Shapes: x (B, D_in); w1 (H, D_in), b1 (H,), w2 (D_out, H), b2 (D_out,) in nn.Linear's
(out, in) layout; grad_out (B, D_out).
"""

import torch
from torch import nn


class TwoLayerMLP(nn.Module):
    """Linear(d_in, hidden) -> ReLU -> Linear(hidden, d_out)."""

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        # BEGIN SOLUTION
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, d_out)
        # END SOLUTION

    def forward(self, x):
        # BEGIN SOLUTION
        return self.fc2(torch.relu(self.fc1(x)))
        # END SOLUTION


def mlp_grads(x, w1, b1, w2, b2, grad_out):
    """(dx, dw1, db1, dw2, db2) of sum(grad_out * mlp(x)), derived by hand (no autograd)."""
    # BEGIN SOLUTION
    h_pre = x @ w1.T + b1
    h = torch.relu(h_pre)
    dw2, db2 = grad_out.T @ h, grad_out.sum(0)
    dh_pre = (grad_out @ w2) * (h_pre > 0)
    return dh_pre @ w1, dh_pre.T @ x, dh_pre.sum(0), dw2, db2
    # END SOLUTION
