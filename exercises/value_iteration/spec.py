"""Checker spec for value_iteration: optimal values and a greedy policy for finite MDPs.

The oracle is exact: a policy's values solve the linear system
(I - gamma P_pi) V = R_pi (hubkit.rl.mdp.policy_evaluation_exact), and V* is
hubkit.rl.mdp.value_iteration's. MDPs: random dense ones and slippery
gridworlds, with discounts drawn from the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CustomSpec
from hubkit.rl import mdp

GRIDS = (["S..G", ".#.H", "...."], ["S...", ".H.#", "...G"])


def _u(ctx: CheckContext, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=ctx.gen, dtype=torch.float64))


def _random_mdp(ctx: CheckContext, S: int, A: int) -> mdp.TabularMDP:
    logits = torch.randn(S, A, S, generator=ctx.gen, dtype=torch.float64) * 2
    P = torch.softmax(logits, dim=2).numpy()
    R = torch.randn(S, A, generator=ctx.gen, dtype=torch.float64).numpy()
    return mdp.TabularMDP(P, R, _u(ctx, 0.8, 0.97), np.zeros(S, dtype=bool))


def _mdps(ctx: CheckContext) -> list[tuple[str, mdp.TabularMDP]]:
    out = [("random MDP S=7 A=3", _random_mdp(ctx, 7, 3))]
    out.append(("gridworld " + "/".join(GRIDS[0]),
                mdp.gridworld(GRIDS[0], slip=_u(ctx, 0.05, 0.3), gamma=_u(ctx, 0.85, 0.97),
                              step_reward=-0.01)))
    if not ctx.fast:
        out.append(("random MDP S=40 A=5", _random_mdp(ctx, 40, 5)))
        out.append(("gridworld " + "/".join(GRIDS[1]),
                    mdp.gridworld(GRIDS[1], slip=0.2, gamma=0.99)))
    return out


def _diagnose(ctx, name, m: mdp.TabularMDP, V: np.ndarray, V_star: np.ndarray) -> None:
    if np.allclose(V, 0.0) and not np.allclose(V_star, 0.0):
        ctx.fail(f"{name}: V is all zeros")
    if np.allclose(V, m.R.max(axis=1), atol=1e-6):
        ctx.fail(f"{name}: V equals a single backup of V = 0: repeat the backup until no "
                 "value changes by more than tol")
    uniform = np.full((m.n_states, m.n_actions), 1.0 / m.n_actions)
    if np.allclose(V, mdp.policy_evaluation_exact(m, uniform), atol=1e-5):
        ctx.fail(f"{name}: V is the value of the uniformly random policy: take the max over "
                 "actions, not the mean")
    err = np.abs(V - V_star)
    s = int(err.argmax())
    ctx.fail(f"{name}: V differs from V* (max abs error {err[s]:.3g} at state {s}: "
             f"{V[s]:.6g} vs {V_star[s]:.6g})")


def _check_one(learner, ctx: CheckContext, name: str, m: mdp.TabularMDP) -> None:
    P, R = m.P.copy(), m.R.copy()
    with ctx.guard():
        out = learner.value_iteration(P, R, m.gamma)
    if not (isinstance(out, tuple) and len(out) == 2):
        ctx.fail(f"{name}: value_iteration must return a tuple (V, policy)")
    for arg, before, after in (("P", m.P, P), ("R", m.R, R)):
        if not np.array_equal(before, after):
            ctx.fail(f"{name}: your code modified its input `{arg}`")
    V, policy = np.asarray(out[0], dtype=np.float64), np.asarray(out[1])
    if V.shape != (m.n_states,) or policy.shape != (m.n_states,):
        ctx.fail(f"{name}: wrong shape: V {V.shape} and policy {policy.shape}, expected "
                 f"({m.n_states},) each")
    if not np.isfinite(V).all():
        ctx.fail(f"{name}: V has NaN or Inf values")
    V_star, _ = mdp.value_iteration(m)
    if not np.allclose(V, V_star, atol=1e-6):
        _diagnose(ctx, name, m, V, V_star)
    one_hot = np.eye(m.n_actions)[policy.astype(np.int64) % m.n_actions]
    V_pi = mdp.policy_evaluation_exact(m, one_hot)
    if not np.allclose(V_pi, V_star, atol=1e-6):
        s = int(np.abs(V_pi - V_star).argmax())
        ctx.fail(f"{name}: the policy is not greedy: following it is worth {V_pi[s]:.6g} "
                 f"at state {s}, V* = {V_star[s]:.6g}")


def _check_backup(learner, ctx: CheckContext) -> None:
    m = _random_mdp(ctx, 5, 3)
    V = torch.randn(5, generator=ctx.gen, dtype=torch.float64).numpy()
    with ctx.guard():
        Q = np.asarray(learner.bellman_backup(m.P, m.R, m.gamma, V))
    want = mdp.q_values(m, V)
    if Q.shape != want.shape:
        ctx.fail(f"bellman_backup: wrong shape {Q.shape}, expected {want.shape} (S, A)")
    if not np.allclose(Q, want, atol=1e-9):
        ctx.fail("bellman_backup: Q differs from R + gamma * P @ V "
                 f"(max abs error {np.abs(Q - want).max():.3g})")


def check(learner, ctx: CheckContext) -> None:
    _check_backup(learner, ctx)
    for name, m in _mdps(ctx):
        _check_one(learner, ctx, name, m)
    ctx.note(f"{len(_mdps(ctx))} MDPs match V* and the policies are greedy")


SPEC = CustomSpec(check=check)
