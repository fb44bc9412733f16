"""Skip-gram's negative-sampling loss and its gradients, in NumPy.

Shapes: B examples, K negative words per example, D vector size. For example
b, v[b] is the input vector of the centre word, u_pos[b] the output vector of
the context word it should predict, u_neg[b, k] the output vectors of K
words drawn from the noise distribution.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sgns_loss_and_grads(v, u_pos, u_neg):
    """loss[b] = -log sigmoid(v[b] . u_pos[b]) - sum_k log sigmoid(-v[b] . u_neg[b, k]).

    Args: v (B, D), u_pos (B, D), u_neg (B, K, D).
    Returns: (loss (B,), dv (B, D), du_pos (B, D), du_neg (B, K, D)), the gradients of
    loss.sum() with respect to v, u_pos and u_neg.
    """
    # BEGIN SOLUTION
    # starter> # Step 1: the scores pos = v . u_pos (B,) and neg = v . u_neg (B, K).
    # starter> # Step 2: the loss; -log sigmoid(x) = log(1 + exp(-x)) = np.logaddexp(0, -x).
    # starter> # Step 3: dloss/dpos = sigmoid(pos) - 1 and dloss/dneg = sigmoid(neg).
    # starter> # Step 4: the chain rule through each dot product to v, u_pos and u_neg.
    # starter> raise NotImplementedError("not implemented yet")
    pos = np.einsum("bd,bd->b", v, u_pos)  # (B,)
    neg = np.einsum("bd,bkd->bk", v, u_neg)  # (B, K)
    loss = np.logaddexp(0.0, -pos) + np.logaddexp(0.0, neg).sum(axis=1)
    g_pos = sigmoid(pos) - 1.0  # (B,)
    g_neg = sigmoid(neg)  # (B, K)
    dv = g_pos[:, None] * u_pos + np.einsum("bk,bkd->bd", g_neg, u_neg)
    du_pos = g_pos[:, None] * v
    du_neg = g_neg[:, :, None] * v[:, None, :]
    return loss, dv, du_pos, du_neg
    # END SOLUTION
