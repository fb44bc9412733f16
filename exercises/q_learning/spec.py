"""Checker spec for q_learning: the update, epsilon-greedy statistics, and a trained agent.

1. q_update against the formula on random tables (terminal and non-terminal).
2. epsilon_greedy: chi-square tests of action frequencies, with a unique best
   action (greedy share 1 - eps + eps / A) and with all-tied values (uniform).
3. train on FrozenLake 4x4: the greedy policy of the learned Q, scored exactly
   on FrozenLake's own model (hubkit.rl.mdp.from_gymnasium), must be worth at
   least 90% of the optimal value from the start state (fast: plain ice, 1000
   episodes, 150 of 150 seeds optimal); the full check uses slippery ice, 3000
   episodes and 50% (20 seeds scored 0.70-1.0 of the optimum).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from hubkit.check import CheckContext, CustomSpec
from hubkit.rl import mdp


def _seed(ctx: CheckContext) -> int:
    return int(torch.randint(0, 2**31 - 1, (), generator=ctx.gen))


def _check_update(learner, ctx: CheckContext) -> None:
    rng = np.random.default_rng(_seed(ctx))
    for terminated in (False, True, False):
        Q = rng.normal(size=(6, 3))
        s, a, s_next = int(rng.integers(6)), int(rng.integers(3)), int(rng.integers(6))
        Q[s_next, a] = Q[s_next].min() - 1.0  # so Q[s_next, a] is not the max
        r, lr, gamma = float(rng.normal()), float(rng.uniform(0.05, 0.9)), 0.9
        before = Q.copy()
        target = r if terminated else r + gamma * before[s_next].max()
        want = before[s, a] + lr * (target - before[s, a])
        with ctx.guard():
            td = learner.q_update(Q, s, a, r, s_next, terminated, lr, gamma)
        # subtle: checked first, since s_next may equal s: a write into row s_next can
        # then also change Q[s, a], and the message should name the stray write.
        others = np.ones_like(Q, dtype=bool)
        others[s, a] = False
        if not np.array_equal(Q[others], before[others]):
            ctx.fail("q_update changed entries other than Q[s, a]")
        if not np.isclose(Q[s, a], want, atol=1e-12):
            step, bootstrapped = Q[s, a] - before[s, a], r + gamma * before[s_next].max()
            if terminated and np.isclose(step, lr * (bootstrapped - before[s, a]), atol=1e-12):
                ctx.fail("q_update bootstrapped from a terminal state: when terminated, the "
                         "target is just r")
            same_action = r + gamma * before[s_next, a]
            if not terminated and np.isclose(step, lr * (same_action - before[s, a]), atol=1e-12):
                ctx.fail("q_update used Q[s_next, a]: the target takes the max over next "
                         "actions, max_a' Q[s_next, a'] (that is what makes it Q-learning)")
            ctx.fail(f"q_update (terminated={terminated}): Q[s, a] = {Q[s, a]:.6g}, expected "
                     f"{want:.6g}")
        if td is None or not np.isclose(float(td), target - before[s, a], atol=1e-12):
            ctx.fail(f"q_update returned {td}, expected the TD error target - Q[s, a] = "
                     f"{target - before[s, a]:.6g} (before the update)")


def _check_epsilon_greedy(learner, ctx: CheckContext, draws: int) -> None:
    rng = np.random.default_rng(_seed(ctx))
    eps, q_row = 0.3, np.array([0.1, 0.7, -0.2, 0.3])
    with ctx.guard():
        acts = np.array(ctx.batch([(learner.epsilon_greedy, (q_row, eps, rng))] * draws))
    expected = np.full(4, eps / 4 * draws)
    expected[1] += (1 - eps) * draws
    counts = np.bincount(acts, minlength=4)[:4]
    p = stats.chisquare(counts, expected).pvalue
    if p < 1e-6:  # a correct solution fails about once in 10^6 runs
        ctx.fail(f"epsilon-greedy frequencies {counts.tolist()} do not match eps = {eps}: "
                 f"expected about {expected.round().astype(int).tolist()} (a random action, "
                 f"which may be the greedy one, with probability eps; chi^2 p = {p:.1e})")
    with ctx.guard():
        tied = np.array(ctx.batch([(learner.epsilon_greedy, (np.zeros(4), 0.0, rng))]
                                  * (draws // 4)))
    counts = np.bincount(tied, minlength=4)[:4]
    if stats.chisquare(counts).pvalue < 1e-6:
        ctx.fail(f"epsilon_greedy breaks ties always the same way ({counts.tolist()} over "
                 "four tied actions): pick uniformly among the best actions")


def _check_training(learner, ctx: CheckContext) -> None:
    import gymnasium as gym

    slippery = not ctx.fast
    env = gym.make("FrozenLake-v1", is_slippery=slippery)
    episodes = 3_000 if slippery else 1_000
    with ctx.guard():
        Q = np.asarray(learner.train(env, episodes, lr=0.1, gamma=0.99, seed=_seed(ctx)))
    if Q.shape != (16, 4):
        ctx.fail(f"train: wrong shape {Q.shape} for Q, expected (16, 4)")
    model = mdp.from_gymnasium(env, gamma=0.99)
    V_star, _ = mdp.value_iteration(model)
    V = mdp.policy_evaluation_exact(model, mdp.greedy_policy(Q))
    need = 0.5 if slippery else 0.9  # slippery runs vary: 20 seeds gave 0.70-1.0 of V*
    if V[0] < need * V_star[0]:
        ctx.fail(f"train: after {episodes} episodes the greedy policy is worth {V[0]:.3f} from "
                 f"the start, below {need:.0%} of the optimum {V_star[0]:.3f}")
    ctx.note(f"greedy policy worth {V[0]:.3f} of V* = {V_star[0]:.3f} (slippery={slippery})")


def check(learner, ctx: CheckContext) -> None:
    _check_update(learner, ctx)
    _check_epsilon_greedy(learner, ctx, 8_000 if ctx.fast else 40_000)
    _check_training(learner, ctx)


SPEC = CustomSpec(check=check)
