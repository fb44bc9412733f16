"""Checker spec for dropout_batchnorm: dropout by statistics, batch norm against torch.nn.

Dropout's output is random, so it is checked by what must hold for any draw:
the eval identity, survivors scaled by exactly 1 / (1 - p), a drop rate within
5 standard deviations of p, and randomness taken only from the rng argument.
Batch norm is deterministic and compared with torch.nn.BatchNorm1d/2d in
float64: training forward, running statistics, eval forward and backward.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec

BN_SHAPES = [(8, 3), (5, 4, 6), (3, 2, 5, 7)]


def _seed(ctx: CheckContext) -> int:
    return int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen))


def _randn(ctx: CheckContext, *shape: int) -> np.ndarray:
    return torch.randn(shape, generator=ctx.gen, dtype=torch.float64).numpy()


def _dropout(learner, ctx, x, p, training, seed):
    before = x.copy()
    with ctx.guard():
        y = learner.dropout(x, p, training, np.random.default_rng(seed))
    if not np.array_equal(x, before):
        raise CheckFailure(f"dropout(p={p}): your code modified its input `x`: return a new "
                           "array")
    y = np.asarray(y)
    if y.shape != x.shape:
        raise CheckFailure(f"dropout(p={p}): output shape {y.shape}, expected {x.shape}")
    return y


def _check_dropout(learner, ctx: CheckContext) -> None:
    x = _randn(ctx, 40, 500) + 3.0  # no zeros in x, so a zero in y means dropped
    y = _dropout(learner, ctx, x, 0.3, False, _seed(ctx))
    if not np.array_equal(y, x):
        raise CheckFailure("dropout(p=0.3, training=False) changed x: in eval mode dropout "
                           "is the identity (inverted dropout already scaled in training)")
    for p in (0.1, 0.5, 0.8):
        y = _dropout(learner, ctx, x, p, True, _seed(ctx))
        kept = y != 0
        if not np.allclose(y[kept], x[kept] / (1 - p), rtol=1e-12):
            ratio = float(np.median(y[kept] / x[kept]))
            raise CheckFailure(f"dropout(p={p}): kept elements are x times {ratio:.4g}, "
                               f"expected x times 1 / (1 - p) = {1 / (1 - p):.4g}: scale the "
                               "survivors so the expected output equals x")
        rate, n = 1 - kept.mean(), x.size
        z = (rate - p) / np.sqrt(p * (1 - p) / n)
        if abs(z) > 5:
            raise CheckFailure(f"dropout(p={p}): dropped {rate:.4f} of {n} elements, expected "
                               f"{p} (z = {z:.1f}): drop each element with probability p")
    _check_dropout_edges_and_rng(learner, ctx, x)


def _check_dropout_edges_and_rng(learner, ctx: CheckContext, x: np.ndarray) -> None:
    seed = _seed(ctx)
    if not np.array_equal(_dropout(learner, ctx, x, 0.0, True, seed), x):
        raise CheckFailure("dropout(p=0, training=True) must return x unchanged")
    if np.any(_dropout(learner, ctx, x, 1.0, True, seed) != 0):
        raise CheckFailure("dropout(p=1, training=True) must return all zeros")
    a, b = (_dropout(learner, ctx, x, 0.5, True, s) for s in (seed, seed))
    c = _dropout(learner, ctx, x, 0.5, True, seed + 1)
    if not np.array_equal(a, b) or np.array_equal(a, c):
        raise CheckFailure("dropout: the same rng seed must give the same mask and another "
                           "seed another mask: draw all randomness from the `rng` argument")


def _torch_bn(shape, gamma, beta, momentum, eps):
    cls = torch.nn.BatchNorm1d if len(shape) < 4 else torch.nn.BatchNorm2d
    bn = cls(shape[1], eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    return bn


def _close(got, want, what: str, hint: str = "") -> None:
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        raise CheckFailure(f"{what}: shape {got.shape}, expected {want.shape}")
    err = np.abs(got - want)
    bad = ~(err <= 1e-9 * (np.abs(want) + 1e-3))
    if bad.any():
        k = tuple(int(i) for i in np.argwhere(bad)[0])
        raise CheckFailure(f"{what}: {int(bad.sum())} of {want.size} values differ from torch, "
                           f"first at {k}: got {got[k]:.8g}, expected {want[k]:.8g}{hint}")


def _check_batchnorm_case(learner, ctx: CheckContext, shape) -> None:
    c = shape[1]
    gamma, beta = np.abs(_randn(ctx, c)) + 0.5, _randn(ctx, c)
    momentum = 0.1 + 0.4 * float(torch.rand((), generator=ctx.gen))
    eps = 1e-5
    bn = _torch_bn(shape, gamma, beta, momentum, eps)
    rmean, rvar = np.zeros(c), np.ones(c)
    name = f"batch norm on x{shape}, momentum {momentum:.3g}"
    for step in range(1, 4):
        x = 2.5 * _randn(ctx, *shape) + float(_randn(ctx, 1)[0])
        x_before = x.copy()
        with ctx.guard():
            y = learner.batch_norm(x, gamma, beta, rmean, rvar, True, momentum, eps)
        if not np.array_equal(x, x_before):
            raise CheckFailure(f"{name}: your code modified its input `x`")
        want = bn.train()(torch.from_numpy(x)).detach().numpy()
        _close(y, want, f"{name}, training forward (batch {step})",
               ": normalize with the batch mean and the biased variance (divide by n)")
        _close(rmean, bn.running_mean.numpy(), f"{name}, running_mean after batch {step}",
               ": update in place, running = (1 - momentum) * running + momentum * batch mean")
        _close(rvar, bn.running_var.numpy(), f"{name}, running_var after batch {step}",
               ": the running variance takes in the unbiased batch variance (divide by n - 1)"
               ", not the biased one used for normalizing")
    _check_eval(learner, ctx, name, shape, bn, gamma, beta, rmean, rvar, momentum, eps)
    _check_backward(learner, ctx, name, shape, bn, gamma, eps)


def _check_eval(learner, ctx, name, shape, bn, gamma, beta, rmean, rvar, momentum, eps) -> None:
    x = 4.0 * _randn(ctx, *shape) - 3.0  # far from the running statistics
    saved = rmean.copy(), rvar.copy()
    with ctx.guard():
        y = learner.batch_norm(x, gamma, beta, rmean, rvar, False, momentum, eps)
    want = bn.eval()(torch.from_numpy(x)).detach().numpy()
    _close(y, want, f"{name}, eval forward",
           ": in eval mode normalize with running_mean and running_var, not the batch's "
           "own statistics")
    if not (np.array_equal(rmean, saved[0]) and np.array_equal(rvar, saved[1])):
        raise CheckFailure(f"{name}: eval mode changed the running statistics; only training "
                           "updates them")


def _check_backward(learner, ctx, name, shape, bn, gamma, eps) -> None:
    x, dy = 2.0 * _randn(ctx, *shape) + 0.5, _randn(ctx, *shape)
    tx = torch.tensor(x, requires_grad=True)
    bn.zero_grad()
    bn.train()(tx).backward(torch.from_numpy(dy))
    with ctx.guard():
        dx, dgamma, dbeta = learner.batch_norm_backward(dy, x, gamma, eps)
    hint = (": the batch mean and variance depend on every x, so dx = inv_std * (g - mean(g) "
            "- x_hat * mean(g * x_hat)) with g = dy * gamma")
    _close(dx, tx.grad.numpy(), f"{name}, backward dx", hint)
    _close(dgamma, bn.weight.grad.numpy(), f"{name}, backward dgamma", ": sum of dy * x_hat")
    _close(dbeta, bn.bias.grad.numpy(), f"{name}, backward dbeta", ": sum of dy")


def check(learner, ctx: CheckContext) -> None:
    _check_dropout(learner, ctx)
    for shape in (BN_SHAPES[0], BN_SHAPES[2]) if ctx.fast else BN_SHAPES:
        _check_batchnorm_case(learner, ctx, shape)
    ctx.note("dropout statistics hold; batch norm matches torch in train and eval mode")


SPEC = CustomSpec(check=check)
