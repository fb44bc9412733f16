"""Checker spec for dagger_step: expert labels on the learner's states, aggregation, refit.

The expert and the learner are linear policies with different weights, drawn
from the run's seed, so a label from the wrong one is told apart; `fit` is a
grader-side callable that records what it was trained on and returns a token.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CustomSpec


def _arr(ctx: CheckContext, *shape: int) -> np.ndarray:
    return torch.randn(*shape, generator=ctx.gen, dtype=torch.float64).numpy()


def _case(ctx: CheckContext, N: int, M: int, O: int, A: int) -> dict:
    W_expert, W_learner = _arr(ctx, O, A), _arr(ctx, O, A)
    data_obs = _arr(ctx, N, O)
    visited = _arr(ctx, M, O) + 3.0  # the learner drifted away from the expert's states
    return {"data_obs": data_obs, "data_actions": data_obs @ W_expert, "visited": visited,
            "learner_actions": visited @ W_learner, "labels": visited @ W_expert,
            "W_expert": W_expert, "token": int(torch.randint(1 << 30, (), generator=ctx.gen))}


def _check_case(learner, ctx: CheckContext, c: dict) -> None:
    calls: list[tuple[np.ndarray, np.ndarray]] = []

    def expert(obs):
        return np.asarray(obs) @ c["W_expert"]

    def fit(obs, actions):
        calls.append((np.array(obs, dtype=np.float64), np.array(actions, dtype=np.float64)))
        return c["token"]

    with ctx.guard():
        out = learner.dagger_step(c["data_obs"].copy(), c["data_actions"].copy(),
                                  c["visited"].copy(), c["learner_actions"].copy(), expert, fit)
    if not (isinstance(out, tuple) and len(out) == 3):
        ctx.fail("dagger_step must return (new_policy, obs, actions)")
    if not calls or out[0] != c["token"]:
        ctx.fail("dagger_step never retrains: return fit(obs, actions), the policy trained on "
                 "the aggregated data")
    obs, actions = calls[-1]
    N, M = len(c["data_obs"]), len(c["visited"])
    if len(obs) == M and np.allclose(obs, c["visited"]):
        ctx.fail("dagger_step replaced the data set with the new pairs: aggregate them with "
                 "the old ones (the expert's first demonstrations included)")
    if obs.shape != (N + M, c["data_obs"].shape[1]) or len(actions) != N + M:
        ctx.fail(f"dagger_step: fit got {obs.shape} observations and {actions.shape} actions, "
                 f"expected {N + M} rows each (N old + M new)")
    new_actions = actions[N:] if np.allclose(actions[:N], c["data_actions"]) else actions[:M]
    if np.allclose(new_actions, 0.0):
        ctx.fail("dagger_step: the new labels are all zeros")
    if np.allclose(new_actions, c["learner_actions"]):
        ctx.fail("dagger_step labels the states with the learner's own actions: the labels "
                 "are expert(visited_obs)")
    if not np.allclose(obs, np.concatenate([c["data_obs"], c["visited"]])):
        ctx.fail("dagger_step: the observations are not the old ones followed by the visited ones")
    if not np.allclose(actions, np.concatenate([c["data_actions"], c["labels"]])):
        ctx.fail("dagger_step: observations and actions no longer line up: row i of the actions "
                 "must label row i of the observations")
    if not (np.allclose(np.asarray(out[1]), obs) and np.allclose(np.asarray(out[2]), actions)):
        ctx.fail("dagger_step: the returned data set differs from what fit was trained on")


def check(learner, ctx: CheckContext) -> None:
    sizes = [(5, 4, 3, 2)] if ctx.fast else [(5, 4, 3, 2), (40, 25, 7, 3)]
    for size in sizes:
        _check_case(learner, ctx, _case(ctx, *size))
    ctx.note(f"{len(sizes)} iterations: expert labels aggregated in order and refit")


SPEC = CustomSpec(check=check)
