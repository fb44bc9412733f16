"""Checker spec for scalar_autograd: the learner's Value against torch.autograd.

Every expression is built twice from the same numbers, once from the learner's
Value and once from float64 torch tensors, and the output and every leaf's
gradient are compared. Inputs are drawn from the run's seed.
"""

from __future__ import annotations

import math
import random

import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec

# name -> (expression on two inputs, needs a > 0); written once, used for both engines
SINGLE_OPS = {
    "a + b": (lambda a, b, ops: a + b, False),
    "a * b": (lambda a, b, ops: a * b, False),
    "a ** 3": (lambda a, b, ops: a ** 3, False),
    "a ** -1.5": (lambda a, b, ops: a ** -1.5, True),
    "tanh(a)": (lambda a, b, ops: ops["tanh"](a), False),
    "relu(a)": (lambda a, b, ops: ops["relu"](a), False),
    "exp(a)": (lambda a, b, ops: ops["exp"](a), False),
    "log(a)": (lambda a, b, ops: ops["log"](a), True),
}


def _value_ops():
    return {"tanh": lambda v: v.tanh(), "relu": lambda v: v.relu(), "exp": lambda v: v.exp(),
            "log": lambda v: v.log()}


TORCH_OPS = {"tanh": torch.tanh, "relu": torch.relu, "exp": torch.exp, "log": torch.log}


def _run_both(learner, ctx, build, inputs):
    """(learner output, learner leaves, torch output, torch leaves) for one expression."""
    with ctx.guard():
        leaves = [learner.Value(x) for x in inputs]
        out = build(*leaves, _value_ops())
        out.backward()
    tleaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    tout = build(*tleaves, TORCH_OPS)
    tout.backward()
    return out, leaves, tout, tleaves


def _close(got: float, want: float) -> bool:
    return math.isfinite(got) and abs(got - want) <= 1e-9 * (abs(want) + 1e-3)


def _compare(what, out, leaves, tout, tleaves, names="ab", hint="") -> None:
    if not _close(out.data, tout.item()):
        raise CheckFailure(f"{what}: forward value {out.data:.10g}, expected {tout.item():.10g}")
    for name, v, t in zip(names, leaves, tleaves, strict=False):
        want = 0.0 if t.grad is None else t.grad.item()
        if not _close(v.grad, want):
            raise CheckFailure(f"{what}: d out / d {name} is {v.grad:.10g}, expected "
                               f"{want:.10g}{hint}")


def _draw(ctx: CheckContext, positive: bool) -> float:
    x = float(torch.randn((), generator=ctx.gen, dtype=torch.float64))
    return abs(x) + 0.2 if positive else x


def _check_single_ops(learner, ctx: CheckContext) -> None:
    for name, (build, positive) in SINGLE_OPS.items():
        for sign in (1.0, -1.0):  # both sides of 0 (relu, odd powers)
            if positive and sign < 0:
                continue
            a, b = sign * abs(_draw(ctx, positive)), _draw(ctx, False)
            _compare(f"{name} at a={a:.4g}, b={b:.4g}", *_run_both(learner, ctx, build, [a, b]))


def _check_reuse(learner, ctx: CheckContext) -> None:
    x = _draw(ctx, False)
    hint = (": a Value used more than once must receive the sum of the gradients from all "
            "its uses: accumulate with +=, never overwrite with =")
    for name, build in {"x * x": lambda x, ops: x * x,
                        "x + x * 3": lambda x, ops: x + x * 3.0}.items():
        _compare(f"{name} at x={x:.4g}", *_run_both(learner, ctx, build, [x]), names="x",
                 hint=hint)


def _shared(a, b, ops):
    d = a * b          # d is used by e and by f
    e = d + a
    return e * d + ops["tanh"](e)


def _check_shared_node(learner, ctx: CheckContext) -> None:
    a, b = _draw(ctx, False), _draw(ctx, False)
    hint = (": on a graph where an intermediate node feeds two others, run each node's "
            "_backward only after all nodes that use it have run theirs (topological order)")
    _compare("(a*b + a) * (a*b) + tanh(a*b + a)", *_run_both(learner, ctx, _shared, [a, b]),
             hint=hint)


def _everything(a, b, c, ops):
    d = a * b + c ** 3 - a / b
    e = ops["tanh"](d) * 2.0 + ops["relu"](c - 0.5) + ops["relu"](a) / 4.0
    f = ops["exp"](-(e ** 2)) + ops["log"](b * b + 1.0)
    g = 1.0 / (f + 2.0) - 3.0 - a + 0.5 * f
    return g * g + d * e


def _check_expression(learner, ctx: CheckContext) -> None:
    for _ in range(2 if ctx.fast else 5):
        xs = [_draw(ctx, False) for _ in range(3)]
        _compare("an expression using every operation", *_run_both(learner, ctx, _everything, xs),
                 names="abc")


def _check_mlp(learner, ctx: CheckContext) -> None:
    rng = random.Random(int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen)))
    sizes = [3, 4, 4, 1]
    weights = [[[rng.uniform(-1, 1) for _ in range(sizes[i] + 1)] for _ in range(sizes[i + 1])]
               for i in range(len(sizes) - 1)]  # each row: weights then bias
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(4)]
    ys = [rng.uniform(-1, 1) for _ in range(4)]
    flat = [w for layer in weights for row in layer for w in row]

    def build(*params_and_ops):
        *params, ops = params_and_ops
        loss = 0.0
        for x, y in zip(xs, ys, strict=True):
            h, k = list(x), 0
            for li, layer in enumerate(weights):
                nxt = []
                for row in layer:
                    n_in = len(row) - 1
                    act = params[k + n_in] + sum(params[k + j] * h[j] for j in range(n_in))
                    k += n_in + 1
                    nxt.append(ops["tanh"](act) if li < len(weights) - 1 else act)
                h = nxt
            loss = loss + (h[0] - y) ** 2
        return loss * (1.0 / len(xs))
    out, leaves, tout, tleaves = _run_both(learner, ctx, build, flat)
    names = [f"parameter {i}" for i in range(len(flat))]
    _compare("MLP 3-4-4-1 (tanh) mean squared error", out, leaves, tout, tleaves, names=names)


def check(learner, ctx: CheckContext) -> None:
    if not hasattr(learner, "Value"):
        raise CheckFailure("your code defines no `Value` class: keep the starter's class name")
    _check_single_ops(learner, ctx)
    _check_reuse(learner, ctx)
    _check_shared_node(learner, ctx)
    _check_expression(learner, ctx)
    _check_mlp(learner, ctx)
    ctx.note("every operation, reused and shared nodes, and an MLP match torch.autograd")


SPEC = CustomSpec(check=check)
