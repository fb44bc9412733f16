"""Checker spec for behavior_cloning: training pairs from episodes, normalization, the loss.

The oracle is hubkit.imitation (demos.transitions, demos.Normalizer, bc.bc_loss) and
autograd for the loss's gradient.
Episodes have random lengths and sizes drawn from the run's seed; one
observation feature is constant, as joint limits or fixed targets often are.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CustomSpec
from hubkit.imitation import demos


def _episodes(ctx: CheckContext, count: int, O: int, A: int):
    lengths = torch.randint(3, 12, (count,), generator=ctx.gen).tolist()
    obs = [torch.randn(T + 1, O, generator=ctx.gen, dtype=torch.float64).numpy() for T in lengths]
    for o in obs:
        o[:, 0] = 2.5  # a constant feature
    acts = [torch.randn(T, A, generator=ctx.gen, dtype=torch.float64).numpy() for T in lengths]
    return obs, acts


def _check_pairs(learner, ctx: CheckContext, obs, acts) -> np.ndarray:
    want_obs = np.concatenate([o[:-1] for o in obs])
    want_act = np.concatenate(acts)
    with ctx.guard():
        got = learner.episodes_to_pairs([o.copy() for o in obs], [a.copy() for a in acts])
    if not (isinstance(got, tuple) and len(got) == 2):
        ctx.fail("episodes_to_pairs must return a tuple (observations, actions)")
    got_obs, got_act = (np.asarray(x, dtype=np.float64) for x in got)
    if len(got_obs) == len(want_obs) + len(obs):
        ctx.fail("episodes_to_pairs: an episode has one more observation than actions: drop "
                 "each episode's final observation")
    if got_obs.shape != want_obs.shape or got_act.shape != want_act.shape:
        ctx.fail(f"episodes_to_pairs: shapes {got_obs.shape} and {got_act.shape}, expected "
                 f"{want_obs.shape} and {want_act.shape}")
    if np.allclose(got_obs, 0.0):
        ctx.fail("episodes_to_pairs: the observations are all zeros")
    if np.allclose(got_obs, np.concatenate([o[1:] for o in obs])):
        ctx.fail("episodes_to_pairs: action t is paired with the observation after the action "
                 "(obs[t + 1]); it was chosen in obs[t]")
    if not (np.array_equal(got_obs, want_obs) and np.array_equal(got_act, want_act)):
        ctx.fail("episodes_to_pairs: the pairs differ from the episodes' (obs[t], action[t]) in "
                 "order")
    return want_obs


def _check_normalizer(learner, ctx: CheckContext, obs: np.ndarray) -> None:
    want = demos.Normalizer.fit(obs)
    with ctx.guard():
        mean, std = learner.fit_normalizer(obs.copy())
    mean, std = np.asarray(mean, np.float64), np.asarray(std, np.float64)
    if mean.shape != want.mean.shape or std.shape != want.std.shape:
        ctx.fail(f"fit_normalizer: shapes {mean.shape} and {std.shape}, expected "
                 f"{want.mean.shape} each (one per feature)")
    z = (obs - mean) / std if np.all(std != 0) else np.full(obs.shape, np.nan)
    if not np.isfinite(z).all() or std[0] < 1e-8:
        ctx.fail("fit_normalizer: a constant feature (feature 0) gets std 0, so normalizing it "
                 "divides by zero: give it std 1")
    if not (np.allclose(mean, want.mean) and np.allclose(std, want.std)):
        ctx.fail("fit_normalizer: mean or std differ from the per-feature statistics over axis 0")


def _check_loss(learner, ctx: CheckContext) -> None:
    M, A = 17, 3
    pred = torch.randn(M, A, generator=ctx.gen, dtype=torch.float64)
    expert = torch.randn(M, A, generator=ctx.gen, dtype=torch.float64)
    want = ((pred - expert) ** 2).sum(dim=1).mean()
    with ctx.guard():
        got = learner.bc_loss(pred.clone(), expert.clone())
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        ctx.fail("bc_loss must return a scalar tensor")
    if torch.isclose(got.double(), (pred - expert).sum(dim=1).mean()):
        ctx.fail("bc_loss: that is the mean signed difference, not the squared error")
    if not torch.isclose(got.double(), want):
        ctx.fail(f"bc_loss: {float(got):.6g}, expected {float(want):.6g} (mean over the batch "
                 "of the squared error summed over action dimensions)")
    leaf = pred.clone().requires_grad_()
    ((leaf - expert) ** 2).sum(dim=1).mean().backward()
    with ctx.guard():
        grad = torch.as_tensor(learner.bc_loss_grad(pred.clone(), expert.clone())).double()
    if grad.shape != leaf.grad.shape:
        ctx.fail(f"bc_loss_grad: shape {tuple(grad.shape)}, expected {tuple(leaf.grad.shape)}")
    if torch.allclose(grad, leaf.grad * M):
        ctx.fail("bc_loss_grad: M times too large: the loss is a mean over the batch, so its "
                 "gradient carries the 1/M")
    if not torch.allclose(grad, leaf.grad):
        ctx.fail("bc_loss_grad differs from autograd's gradient of the loss")


def check(learner, ctx: CheckContext) -> None:
    sizes = [(3, 5, 2)] if ctx.fast else [(3, 5, 2), (6, 11, 4)]
    for count, O, A in sizes:
        obs, acts = _episodes(ctx, count, O, A)
        pairs = _check_pairs(learner, ctx, obs, acts)
        _check_normalizer(learner, ctx, pairs)
    _check_loss(learner, ctx)
    ctx.note(f"{len(sizes)} episode sets: pairs, normalizer and loss match")


SPEC = CustomSpec(check=check)
