"""Checker spec for torch_mlp: the learner's nn.Module and hand-derived gradients.

The module is built in the learner's process and its registered parameters
are read back to recompute the forward pass here; the manual gradients are
compared with torch.autograd in float64. Sizes and values come from the run's seed.
"""

from __future__ import annotations

import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec

NAMES = ("dx", "dw1", "db1", "dw2", "db2")


def _randn(ctx, *shape):
    return torch.randn(*shape, generator=ctx.gen, dtype=torch.float64)


def _forward(x, w1, b1, w2, b2):
    return torch.relu(x @ w1.T + b1) @ w2.T + b2


def _check_module(learner, ctx, d_in: int, hidden: int, d_out: int) -> None:
    x = _randn(ctx, 5, d_in).float()
    with ctx.guard():
        model = learner.TwoLayerMLP(d_in, hidden, d_out)
        params = [p.detach() for p in list(model.parameters())]
        out = model(x).detach()
    shapes = [tuple(p.shape) for p in params]
    want = [(hidden, d_in), (hidden,), (d_out, hidden), (d_out,)]
    if shapes != want:
        raise CheckFailure(f"model.parameters() has shapes {shapes}, expected {want}: assign "
                           "the layers as attributes (self.fc1 = nn.Linear(...)) so nn.Module "
                           "registers their parameters")
    expected = _forward(x.double(), *[p.double() for p in params])
    if out.shape != expected.shape or not torch.allclose(out.double(), expected, atol=1e-5):
        raise CheckFailure("model(x) differs from fc2(relu(fc1(x))) with the model's own "
                           "parameters")


def _check_grads(learner, ctx, b: int, d_in: int, hidden: int, d_out: int) -> None:
    leaves = [_randn(ctx, *s) for s in ((b, d_in), (hidden, d_in), (hidden,),
                                         (d_out, hidden), (d_out,))]
    grad_out = _randn(ctx, b, d_out)
    with ctx.guard():
        got = learner.mlp_grads(*leaves, grad_out)
    ref = [t.clone().requires_grad_() for t in leaves]
    (_forward(*ref) * grad_out).sum().backward()
    for name, g, r in zip(NAMES, got, ref, strict=True):
        g = torch.as_tensor(g, dtype=torch.float64)
        if g.shape != r.grad.shape or not torch.allclose(g, r.grad, rtol=1e-9, atol=1e-10):
            raise CheckFailure(f"mlp_grads: {name} (shape {tuple(r.grad.shape)}) differs from "
                               f"autograd's (got shape {tuple(g.shape)}): redo the chain rule "
                               "for that parameter")


def check(learner, ctx: CheckContext) -> None:
    for b, d_in, hidden, d_out in ((6, 4, 7, 3), (1, 5, 3, 2)):
        _check_module(learner, ctx, d_in, hidden, d_out)
        _check_grads(learner, ctx, b, d_in, hidden, d_out)
    ctx.note("the module registers its layers; manual gradients equal autograd's")


SPEC = CustomSpec(check=check)
