"""Checker spec for maxent_irl: the soft backward pass, the visitation forward pass, the gradient.

The oracle is hubkit.imitation.maxent_irl. MDPs are random (dense transitions
with one or two terminal states) and slippery gridworlds, with rewards and
horizons drawn from the run's seed. The learner's state_visitation is fed the
reference policy, so each function is graded on its own.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CustomSpec
from hubkit.imitation import maxent_irl as ref
from hubkit.rl import mdp as mdps


def _np(ctx: CheckContext, *shape: int) -> np.ndarray:
    return torch.randn(*shape, generator=ctx.gen, dtype=torch.float64).numpy()


def _random_case(ctx: CheckContext, S: int, A: int, T: int) -> dict:
    P = torch.softmax(torch.from_numpy(_np(ctx, S, A, S) * 2), dim=2).numpy()
    terminal = np.zeros(S, dtype=bool)
    terminal[[S - 1, S // 2]] = True
    start = np.zeros(S)
    start[:2] = 0.5
    return {"name": f"random MDP S={S} A={A} T={T}", "P": P, "terminal": terminal,
            "reward": _np(ctx, S), "start": start, "T": T}


def _grid_case(ctx: CheckContext) -> dict:
    m = mdps.gridworld(["S..H", ".#..", "...G"], slip=0.2)
    start = np.eye(m.n_states)[0]
    return {"name": "gridworld S..H/.#../...G T=9", "P": m.P, "terminal": m.terminal,
            "reward": _np(ctx, m.n_states), "start": start, "T": 9}


def _cases(ctx: CheckContext) -> list[dict]:
    out = [_random_case(ctx, 6, 3, 5), _grid_case(ctx)]
    if not ctx.fast:
        out.append(_random_case(ctx, 25, 4, 15))
    return out


def _call(ctx: CheckContext, fn, name: str, *args):
    copies = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    with ctx.guard():
        out = fn(*copies)
    for i, (before, after) in enumerate(zip(args, copies, strict=True)):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            ctx.fail(f"{name}: your code modified its input argument {i + 1}")
    out = np.asarray(out, dtype=np.float64)
    if not np.isfinite(out).all():
        ctx.fail(f"{name}: the result has NaN or Inf values")
    return out


def _check_policy(learner, ctx: CheckContext, c: dict) -> np.ndarray:
    want = ref.soft_value_iteration(c["P"], c["terminal"], c["reward"], c["T"])
    got = _call(ctx, learner.soft_value_iteration, "soft_value_iteration",
                c["P"], c["terminal"], c["reward"], c["T"])
    if got.shape != want.shape:
        ctx.fail(f"{c['name']}: soft_value_iteration returned shape {got.shape}, expected "
                 f"{want.shape} (T, S, A)")
    if np.allclose(got, want, atol=1e-8):
        return want
    if np.isin(got[:-1], (0.0, 1.0)).all():  # one-hot rows (the last row is uniform anyway)
        ctx.fail(f"{c['name']}: soft_value_iteration returns a greedy one-hot policy: it takes "
                 "the max instead of a soft maximum (logsumexp) over actions")
    t, s = np.unravel_index(np.abs(got - want).max(axis=2).argmax(), got.shape[:2])
    ctx.fail(f"{c['name']}: soft_value_iteration differs from the reference at step {t}, state "
             f"{s}: {np.round(got[t, s], 4).tolist()} vs {np.round(want[t, s], 4).tolist()}")


def _visitation_variants(c: dict, policy: np.ndarray) -> dict[str, np.ndarray]:
    """What common slips compute, to name the slip in the message."""
    no_end = np.zeros_like(c["terminal"])
    same = np.broadcast_to(policy[:1], policy.shape)
    D = ref.state_visitation(c["P"], c["terminal"], policy, c["start"])
    return {"terminal states pass probability mass on: a path ends there":
            ref.state_visitation(c["P"], no_end, policy, c["start"]),
            "the same policy at every step: use policy[t] at step t":
            ref.state_visitation(c["P"], c["terminal"], same, c["start"]),
            "the total leaves out the first state: start from D_0 = start": D - c["start"]}


def _check_visitation(learner, ctx: CheckContext, c: dict, policy: np.ndarray) -> None:
    want = ref.state_visitation(c["P"], c["terminal"], policy, c["start"])
    got = _call(ctx, learner.state_visitation, "state_visitation",
                c["P"], c["terminal"], policy, c["start"])
    if got.shape != want.shape:
        ctx.fail(f"{c['name']}: state_visitation returned shape {got.shape}, expected "
                 f"{want.shape} (S,)")
    if np.allclose(got, want, atol=1e-9):
        return
    if np.allclose(got, 0.0):
        ctx.fail(f"{c['name']}: state_visitation is all zeros")
    for why, variant in _visitation_variants(c, policy).items():
        if np.allclose(got, variant, atol=1e-9):
            ctx.fail(f"{c['name']}: state_visitation: {why}")
    s = int(np.abs(got - want).argmax())
    ctx.fail(f"{c['name']}: state_visitation differs from the reference at state {s}: "
             f"{got[s]:.6g} vs {want[s]:.6g} (sum {got.sum():.4g} vs {want.sum():.4g})")


def _check_gradient(learner, ctx: CheckContext, c: dict) -> None:
    S = c["P"].shape[0]
    F = max(2, S // 2)
    features = np.abs(_np(ctx, S, F))
    theta, expert = _np(ctx, F), np.abs(_np(ctx, F)) * 2
    args = (c["P"], c["terminal"], features, theta, expert, c["start"], c["T"])
    want = ref.irl_gradient(*args)
    got = _call(ctx, learner.irl_gradient, "irl_gradient", *args)
    if got.shape != want.shape:
        ctx.fail(f"{c['name']}: irl_gradient returned shape {got.shape}, expected "
                 f"{want.shape} (F,)")
    if np.allclose(got, want, atol=1e-8):
        return
    if np.allclose(got, -want, atol=1e-8):
        ctx.fail(f"{c['name']}: irl_gradient points the wrong way: it is the model's feature "
                 "counts minus the expert's; ascent needs expert_counts - features.T @ D")
    ctx.fail(f"{c['name']}: irl_gradient differs from the reference (max abs error "
             f"{np.abs(got - want).max():.3g})")


def check(learner, ctx: CheckContext) -> None:
    cases = _cases(ctx)
    for c in cases:
        policy = _check_policy(learner, ctx, c)
        _check_visitation(learner, ctx, c, policy)
        _check_gradient(learner, ctx, c)
    ctx.note(f"{len(cases)} MDPs: soft policies, visitation frequencies and gradients match")


SPEC = CustomSpec(check=check)
