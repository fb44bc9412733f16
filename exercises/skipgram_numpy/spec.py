"""Checker spec for skipgram_numpy: the negative-sampling loss and its gradients, against
torch autograd.

The oracle is the loss written with torch (`-logsigmoid`) in float64 and
differentiated by autograd; the loss and each gradient are compared under
their own names, so a message says which one is wrong. The shipped reference
is `hubkit.embeddings.word2vec.sgns_loss_and_grads`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hubkit.check import CheckContext, CheckFailure, CustomSpec
from hubkit.exercise_support import rnn_check

# (B, K, D): odd sizes, one D past a SIMD width, and scaled-up vectors whose scores reach
# about +-30 (where 1 - sigmoid and exp(-x) lose digits).
CASES = [(1, 1, 1, 1.0), (3, 5, 7, 1.0), (4, 2, 33, 1.0), (5, 3, 9, 2.5)]


def oracle(t: dict[str, torch.Tensor]) -> torch.Tensor:
    """loss (B,) in float64 with torch."""
    pos = (t["v"] * t["u_pos"]).sum(-1)
    neg = torch.einsum("bd,bkd->bk", t["v"], t["u_neg"])
    return -F.logsigmoid(pos) - F.logsigmoid(-neg).sum(-1)


def _case(learner, ctx: CheckContext, b: int, k: int, d: int, scale: float) -> None:
    what = f"B={b} K={k} D={d}"
    t = rnn_check.draw(ctx, {"v": (b, d), "u_pos": (b, d), "u_neg": (b, k, d)},
                       scale={"v": scale, "u_pos": scale, "u_neg": scale})
    arrays = {name: x.numpy().copy() for name, x in t.items()}
    out = rnn_check.call_unchanged(ctx, learner.sgns_loss_and_grads, what, arrays)
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        raise CheckFailure(f"{what}: return (loss, dv, du_pos, du_neg), got "
                           f"{type(out).__name__}")
    leaves = {name: x.clone().requires_grad_() for name, x in t.items()}
    loss = oracle(leaves)
    want = {"loss": loss.detach(),
            **rnn_check.grads((loss,), (torch.ones_like(loss),), leaves)}
    rnn_check.compare(what, out, want)


def check(learner, ctx: CheckContext) -> None:
    for case in CASES[::2] if ctx.fast else CASES:
        _case(learner, ctx, *case)
    ctx.note("loss and the gradients of v, u_pos and u_neg match torch autograd")


SPEC = CustomSpec(check=check, forbidden=("aten::log_sigmoid_forward",
                                          "aten::binary_cross_entropy_with_logits"))
