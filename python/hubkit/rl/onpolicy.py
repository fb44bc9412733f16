"""The loop every on-policy method shares: collect, update, log, evaluate, repeat.

REINFORCE, A2C and PPO differ only in what they do with a rollout (their
`update`), so each algorithm file holds its config, its loss and its update,
and calls `run` here for everything else:

    envs, policy -> Collector.collect() -> update(policy, optimizer, collector,
    last_value, cfg, gen) -> metrics -> tracker / progress -> evaluate -> ...

Seeding: `cfg.seed` seeds torch (network init, action sampling), the envs'
first reset and the minibatch shuffles (a torch.Generator); with the same
seed and `cfg.threads` a CPU run repeats bit for bit.

Shapes: N envs, T steps per rollout; a rollout is T * N env steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from hubkit.rl import normalize
from hubkit.rl.policies import ActorCritic, make_policy
from hubkit.rl.rollout import Collector


@dataclass
class OnPolicyConfig:
    """What every on-policy method takes; the algorithms add their own fields."""

    env_id: str = "CartPole-v1"
    """Gymnasium id; "hubkit/<Task>-v5" runs on hubkit's C++ MuJoCo vector env."""
    num_envs: int = 8
    """N envs stepped side by side."""
    num_steps: int = 128
    """T steps per env per rollout (one update per rollout)."""
    total_steps: int = 100_000
    """Env steps to train for (T * N per rollout), unless solved earlier."""
    lr: float = 2.5e-4
    """Adam learning rate (at the start, when annealed)."""
    anneal_lr: bool = False
    """Let the learning rate fall linearly to 0 over training."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda (1: Monte Carlo returns minus the value, 0: one-step TD)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the actor and critic MLPs."""
    tanh_squash: bool = False
    """Box actions: squash the Gaussian through tanh into the bounds."""
    norm_obs: bool = False
    """Normalize observations (Gymnasium's NormalizeObservation) and clip to [-10, 10]."""
    norm_reward: bool = False
    """Scale rewards by the std of the discounted return (NormalizeReward), clip to [-10, 10]."""
    max_grad_norm: float = 0.5
    """Clip the gradient's global norm to this (0: no clipping)."""
    eval_every: int = 10_000
    """Env steps between deterministic evaluations (0: none during training)."""
    eval_episodes: int = 10
    """Episodes per evaluation."""
    solved_return: float | None = None
    """Stop once a 100-episode deterministic evaluation reaches this mean return."""
    seed: int = 0
    """Seeds torch, the envs and the minibatch order."""
    threads: int = 1
    """torch CPU threads (small MLPs run fastest on one)."""
    env_threads: int = 1
    """Threads of hubkit's C++ vector env (hubkit/ ids only)."""
    gae_backend: str | None = None
    """Backend of hubkit.rl.gae: "cpp", "reference" or None (by device)."""
    max_seconds: float = 0.0
    """Stop after the update that passes this much wall-clock time (0: no limit)."""


@dataclass
class TrainResult:
    """What `run` returns: the final policy, its last evaluation, the best one, and a log.

    eval_return is the last evaluation's mean (the 100-episode one when it ran).
    """

    policy: ActorCritic
    eval_return: float
    best_eval_return: float
    steps: int
    seconds: float
    log: list[dict] = field(default_factory=list)
    episode_returns: list[float] = field(default_factory=list)
    obs_stats: dict | None = None


Update = Callable[..., dict]


def make_train_envs(cfg: OnPolicyConfig, num_envs: int | None = None):
    """The training vector env of `cfg` (normalization as configured)."""
    return normalize.make_envs(cfg.env_id, num_envs or cfg.num_envs, norm_obs=cfg.norm_obs,
                               norm_reward=cfg.norm_reward, gamma=cfg.gamma,
                               num_threads=cfg.env_threads)


def evaluate(policy: ActorCritic, cfg: OnPolicyConfig, train_envs, episodes: int,
             seed: int) -> np.ndarray:
    """Returns (episodes,) of deterministic episodes, one per env copy, with frozen obs stats."""
    envs = normalize.make_envs(cfg.env_id, episodes, norm_obs=cfg.norm_obs,
                               num_threads=cfg.env_threads)
    normalize.freeze_obs_normalization(envs, train_envs)
    obs, _ = envs.reset(seed=seed)
    returns, finished = np.zeros(episodes), np.zeros(episodes, dtype=bool)
    while not finished.all():
        action, _, _ = policy.act(torch.as_tensor(obs, dtype=torch.float32), deterministic=True)
        obs, _, _, _, infos = envs.step(policy.env_action(action))
        if "episode" in infos:
            first = infos["_episode"] & ~finished
            returns[first] = infos["episode"]["r"][first]
            finished |= first
    envs.close()
    return returns


def gradient_step(optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                  max_grad_norm: float) -> float:
    """Backward, clip the global gradient norm (if max_grad_norm > 0), step; returns the norm."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = float("nan")
    if max_grad_norm > 0:
        params = [p for group in optimizer.param_groups for p in group["params"]]
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm, foreach=True))
    optimizer.step()
    return norm


def default_optimizer(cfg: OnPolicyConfig):
    """params -> Adam(lr=cfg.lr, eps=1e-5) (CleanRL's), fused into one kernel per step."""
    # subtle: fused=True updates every parameter in one kernel; the default on CPU loops
    # over the tensors in Python, a large part of a small policy's update time.
    return lambda params: torch.optim.Adam(params, lr=cfg.lr, eps=1e-5, fused=True)


def set_lr(optimizer: torch.optim.Optimizer, cfg: OnPolicyConfig, done_frac: float) -> float:
    """Linear annealing: lr * (1 - done_frac) when cfg.anneal_lr; returns the rate set."""
    lr = cfg.lr * (1.0 - done_frac) if cfg.anneal_lr else cfg.lr
    for group in optimizer.param_groups:
        group["lr"] = lr
    return lr


class _Evaluator:
    """Quick evaluations, and a 100-episode one when a quick one reaches cfg.solved_return."""

    def __init__(self, cfg: OnPolicyConfig):
        self.cfg, self.last, self.best, self.solved = cfg, float("nan"), -np.inf, False

    def __call__(self, policy, envs, step: int) -> dict:
        cfg = self.cfg
        quick = float(evaluate(policy, cfg, envs, cfg.eval_episodes, cfg.seed + step).mean())
        row = {"eval_return": quick}
        if cfg.solved_return is not None and quick >= cfg.solved_return:
            full = float(evaluate(policy, cfg, envs, 100, cfg.seed + 10**6 + step).mean())
            row["eval100_return"] = full
            self.solved = full >= cfg.solved_return
            quick = full
        self.last, self.best = quick, max(self.best, quick)
        return row


def run(cfg: OnPolicyConfig, update: Update, *, make_optimizer=None, policy_factory=None,
        envs=None, progress=None, track=None) -> TrainResult:
    """Train `policy_factory`'s policy with `update` on rollouts of `envs`.

    Args:
        cfg: the shared settings (an algorithm's config subclass).
        update: update(policy, optimizer, collector, last_value, cfg, gen) -> metrics
            dict; the collector's buffer holds the rollout just collected.
        make_optimizer: params -> optimizer (default `default_optimizer(cfg)`).
        policy_factory: (single_obs_space, single_act_space) -> ActorCritic (default
            `make_policy` with cfg.hidden and cfg.tanh_squash).
        envs: a NEXT_STEP vector env wrapped by `normalize.wrap` (default from cfg).
        progress: a runlog.Progress advanced once per update with the metrics.
        track: a runlog Tracker; each update's metrics are logged at its env step.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _run(cfg, update, make_optimizer, policy_factory, envs, progress, track)
    finally:
        torch.set_num_threads(threads)


def _run(cfg, update, make_optimizer, policy_factory, envs, progress, track) -> TrainResult:
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    envs = envs if envs is not None else make_train_envs(cfg)
    factory = policy_factory or (lambda o, a: make_policy(o, a, cfg.hidden, cfg.tanh_squash))
    policy = factory(envs.single_observation_space, normalize.action_space(envs))
    optimizer = (make_optimizer or default_optimizer(cfg))(policy.parameters())
    collector = Collector(envs, policy, cfg.num_steps, cfg.seed)
    evaluator, log, start = _Evaluator(cfg), [], time.perf_counter()
    num_updates = max(1, cfg.total_steps // (cfg.num_steps * envs.num_envs))
    for u in range(num_updates):
        lr = set_lr(optimizer, cfg, u / num_updates)
        last_value = collector.collect()
        metrics = update(policy, optimizer, collector, last_value, cfg, gen)
        row = _log_row(collector, metrics, lr, start)
        if cfg.eval_every and _crossed(collector.steps, cfg.num_steps * envs.num_envs,
                                       cfg.eval_every):
            row.update(evaluator(policy, envs, collector.steps))
        log.append(row)
        metrics = {k: v for k, v in row.items() if k != "step"}
        if track is not None:
            track.log(row["step"], **metrics)
        if progress is not None:
            progress.update(**{k: metrics[k] for k in _SHOWN if k in metrics})
        if evaluator.solved or (cfg.max_seconds and row["seconds"] >= cfg.max_seconds):
            break
    if cfg.eval_every and "eval_return" not in log[-1]:  # the final policy, evaluated
        log[-1].update(evaluator(policy, envs, collector.steps))
    return TrainResult(policy, evaluator.last, float(evaluator.best), collector.steps,
                       time.perf_counter() - start, log, collector.episode_returns,
                       normalize.obs_statistics(envs))


_SHOWN = ("train_return", "eval_return", "loss")


def _crossed(steps: int, per_update: int, every: int) -> bool:
    """True when the last update carried the step count past a multiple of `every`."""
    return steps // every != (steps - per_update) // every


def _log_row(collector: Collector, metrics: dict, lr: float, start: float) -> dict:
    recent = collector.episode_returns[-100:]
    return {"step": collector.steps, "seconds": round(time.perf_counter() - start, 2),
            "lr": lr, "train_return": float(np.mean(recent)) if recent else float("nan"),
            "episodes": len(collector.episode_returns), **metrics}
