"""Two controllers that run on hubkit's vector env: arm reaching and a CEM-tuned gait.

Reacher: a Jacobian-transpose controller. The fingertip of the two-link arm
(links l1 = 0.1, l2 = 0.11) sits at
    p(q) = l1 [cos q0, sin q0] + l2 [cos(q0+q1), sin(q0+q1)],
so a torque tau = -kp J(q)^T (p - target) - kd qdot pulls it toward the
target like a spring with damping (Craig, "Introduction to Robotics", ch. 9).

HalfCheetah: an open-loop periodic gait, a_j(t) = b_j + A_j sin(2 pi f t dt + phi_j),
whose 19 numbers (A, phi, b per joint, one frequency) are tuned with the
cross-entropy method (Rubinstein, 1999; as a policy search: Szita & Lorincz,
2006): every env of the vector env tries one candidate, the best 20% refit the
sampling Gaussian. PPO comes with the policy-gradient track.

Shapes: N envs; Reacher obs (N, 10); gait params (N, 19).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hubkit.envs.vector import MujocoVectorEnv

L1, L2 = 0.1, 0.11  # reacher.xml: link0 length, fingertip offset on link1


def fingertip(obs: np.ndarray) -> np.ndarray:
    """Fingertip xy from a Reacher observation (N, 10) -> (N, 2)."""
    c0, c1, s0, s1 = obs[:, 0], obs[:, 1], obs[:, 2], obs[:, 3]
    c01, s01 = c0 * c1 - s0 * s1, s0 * c1 + c0 * s1  # cos, sin of q0 + q1
    return np.stack([L1 * c0 + L2 * c01, L1 * s0 + L2 * s01], axis=1)


def reach_policy(obs: np.ndarray, kp: float = 150.0, kd: float = 0.15) -> np.ndarray:
    """Jacobian-transpose torques toward the target, clipped to [-1, 1]; (N, 10) -> (N, 2)."""
    c0, c1, s0, s1 = obs[:, 0], obs[:, 1], obs[:, 2], obs[:, 3]
    c01, s01 = c0 * c1 - s0 * s1, s0 * c1 + c0 * s1
    err = obs[:, 8:10]  # fingertip - target, (N, 2)
    # J = [[-l1 s0 - l2 s01, -l2 s01], [l1 c0 + l2 c01, l2 c01]]; tau = -kp J^T err
    tau0 = -kp * ((-L1 * s0 - L2 * s01) * err[:, 0] + (L1 * c0 + L2 * c01) * err[:, 1])
    tau1 = -kp * (-L2 * s01 * err[:, 0] + L2 * c01 * err[:, 1])
    tau = np.stack([tau0, tau1], axis=1) - kd * obs[:, 6:8]
    return np.clip(tau, -1.0, 1.0)


def gait_actions(params: np.ndarray, t: int, dt: float) -> np.ndarray:
    """Open-loop gait actions at step t; params (N, 3 * nu + 1) -> actions (N, nu)."""
    nu = (params.shape[1] - 1) // 3
    amp, phase, bias = params[:, :nu], params[:, nu:2 * nu], params[:, 2 * nu:3 * nu]
    freq = params[:, -1:]
    return np.clip(bias + amp * np.sin(2 * np.pi * freq * t * dt + phase), -1.0, 1.0)


@dataclass
class CEMConfig:
    """Cross-entropy search over gait parameters; defaults run in seconds on a laptop."""

    task: str = "HalfCheetah"
    population: int = 16
    """Candidates per iteration = envs in the vector env."""
    iterations: int = 8
    elite_frac: float = 0.25
    horizon: int = 150
    """Env steps each candidate is scored on."""
    init_std: float = 0.5
    seed: int = 0
    num_threads: int = 2


def score_gaits(env: MujocoVectorEnv, params: np.ndarray, horizon: int, seed: int) -> np.ndarray:
    """Return of each env running its own gait for `horizon` steps; (N,)."""
    env.reset(seed=seed)
    dt = env.model.opt.timestep * env.task_spec.frame_skip
    total, alive = np.zeros(env.num_envs), np.ones(env.num_envs, dtype=bool)
    for t in range(horizon):
        _, rew, term, trunc, _ = env.step(gait_actions(params, t, dt))
        total += rew * alive
        alive &= ~(term | trunc)  # count only the first episode
    return total


def cem_gait(cfg: CEMConfig | None = None,
             on_iteration: Callable[[int, np.ndarray], None] | None = None):
    """Tune a gait with CEM. Returns (best params (3 nu + 1,), per-iteration best returns).

    `on_iteration(i, returns)` sees each iteration's population returns (N,).
    """
    cfg = cfg or CEMConfig()
    env = MujocoVectorEnv(cfg.task, num_envs=cfg.population, num_threads=cfg.num_threads)
    nu = env.core.nu
    rng = np.random.default_rng(cfg.seed)
    mean = np.concatenate([np.full(nu, 0.5), np.zeros(2 * nu), [2.0]])
    std = np.concatenate([np.full(3 * nu, cfg.init_std), [0.5]])
    n_elite = max(2, int(cfg.elite_frac * cfg.population))
    best, best_ret, history = mean.copy(), -np.inf, []
    for _ in range(cfg.iterations):
        pop = mean + std * rng.standard_normal((cfg.population, mean.size))
        ret = score_gaits(env, pop, cfg.horizon, cfg.seed)
        elite = pop[np.argsort(ret)[-n_elite:]]
        mean, std = elite.mean(0), elite.std(0) + 0.02  # floor keeps exploring
        if ret.max() > best_ret:
            best, best_ret = pop[ret.argmax()].copy(), float(ret.max())
        history.append(float(ret.max()))
        if on_iteration is not None:
            on_iteration(len(history) - 1, ret)
    return best, np.array(history)


def reacher_paths(num_envs: int = 4, steps: int = 50, seed: int = 0):
    """Run reach_policy; returns fingertip paths (T+1, N, 2) and targets (N, 2)."""
    env = MujocoVectorEnv("Reacher", num_envs=num_envs, max_episode_steps=0)
    obs, _ = env.reset(seed=seed)
    targets = fingertip(obs) - obs[:, 8:10]
    path = [fingertip(obs)]
    for _ in range(steps):
        obs, *_ = env.step(reach_policy(obs))
        path.append(fingertip(obs))
    return np.stack(path), targets


def cheetah_x(params: np.ndarray, steps: int = 150, seed: int = 0) -> np.ndarray:
    """x position over time of HalfCheetah running one gait; (T+1,)."""
    env = MujocoVectorEnv("HalfCheetah", num_envs=1, max_episode_steps=0)
    env.reset(seed=seed)
    dt = env.model.opt.timestep * env.task_spec.frame_skip
    xs = [env.core.get_state(0)[0][0]]
    for t in range(steps):
        env.step(gait_actions(params[None], t, dt))
        xs.append(env.core.get_state(0)[0][0])
    return np.array(xs)


def plot_trajectories(path: str, gait: np.ndarray | None = None, seed: int = 0) -> str:
    """PNG: Reacher fingertip paths (left) and HalfCheetah x(t) for a gait (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tips, targets = reacher_paths(seed=seed)
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 4))
    for i in range(tips.shape[1]):
        line = a.plot(tips[:, i, 0], tips[:, i, 1], lw=1.5)[0]
        a.plot(*targets[i], marker="x", ms=10, color=line.get_color())
    a.set(title="Reacher: fingertip paths (x = target)", aspect="equal")
    if gait is not None:
        b.plot(cheetah_x(gait, seed=seed), label="CEM gait")
    b.plot(cheetah_x(np.zeros(19), seed=seed), label="zero action")
    b.set(title="HalfCheetah: x position", xlabel="env step", ylabel="x (m)")
    b.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
