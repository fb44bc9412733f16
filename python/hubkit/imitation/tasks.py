"""The imitation tasks: an env to run and an expert that labels it (Reacher, HalfCheetah, Hopper).

Each `Task` bundles a vector-env factory and an expert policy (N, O) -> (N, A):

* Reacher: the Jacobian-transpose reach controller of `hubkit.envs.controllers`
  (closed loop, kp = 50).
* HalfCheetah: the CEM-tuned open-loop gait of `hubkit.envs.controllers`,
  a_j(t) = b_j + A_j sin(w t + phi_j). An open-loop expert's action depends on
  time, not on the observation, so a policy of the observation alone can copy
  it only where the state reveals the time (on a settled gait cycle, it
  largely does). `hubkit.imitation.phase.PhaseObservation` appends the gait's phase (sin w t,
  cos w t) to the observation, and the expert reads its action from those two
  features:
  sin(w t + phi) = cos(phi) sin(w t) + sin(phi) cos(w t). The cloned policy
  sees the same features, and everything else (rollouts, DAgger, evaluation)
  works on the wrapped env unchanged.
* Hopper: a PPO policy of the RL track (`python -m hubkit.rl.train ppo`), closed
  loop, by default the committed run
  benchmarks/results/rl-ppo-hopper-cpu-2026-12-02/policy.pt (return about 1100),
  played deterministically (the Gaussian's mean) with its saved observation
  normalization.

Shapes: N envs, O observation size, A action size, nu actuators.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hubkit.imitation.demos import Normalizer, Policy

NAMES = ("reacher", "halfcheetah", "hopper")
HOPPER_PPO = (Path(__file__).resolve().parents[3] / "benchmarks" / "results"
              / "rl-ppo-hopper-cpu-2026-12-02" / "policy.pt")


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread inside the block, then restore the setting."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass
class Task:
    """An env factory plus the expert that acts in it and labels its states."""

    name: str
    """The env's name for plots, e.g. "HalfCheetah"."""
    make_env: Callable[..., Any]
    """(num_envs, seed, **TaskSpec overrides) -> a NEXT_STEP vector env."""
    expert: Policy
    expert_name: str
    """What the expert is, one line."""
    drift_steps: int = 50
    """Horizon of the compounding-error measurement."""
    drift_overrides: dict = field(default_factory=dict)
    """Env overrides for that measurement (no time limit, no termination: follow the fall)."""
    phase_features: int = 0
    """Trailing observation features that carry the expert's clock (the gait's phase)."""


def expert_policy(obs: np.ndarray) -> np.ndarray:
    """The Reacher expert: Jacobian-transpose reaching with kp = 50 (return about -5.5
    where kp = 150 reaches closer but pays three times more in torque)."""
    from hubkit.envs.controllers import reach_policy

    return reach_policy(obs, kp=50.0)


def reacher_env(num_envs: int, seed: int, **overrides):
    """hubkit's C++ vector env of Reacher (50-step episodes)."""
    from hubkit.envs.vector import MujocoVectorEnv

    return MujocoVectorEnv("Reacher", num_envs=num_envs, seed=seed, **overrides)


def reacher_task() -> Task:
    """Reacher with the reach controller (50-step episodes, no termination)."""
    return Task("Reacher", reacher_env, expert_policy, "reach controller (kp = 50)")


class GaitExpert:
    """The open-loop gait as a policy of PhaseObservation's features: (N, O + 2) -> (N, nu).

    Args:
        params: gait parameters (3 nu + 1,): amplitudes, phases, biases, frequency.
    """

    def __init__(self, params: np.ndarray) -> None:
        params = np.asarray(params, dtype=np.float64)
        if params.ndim != 1 or (params.size - 1) % 3:
            raise ValueError(f"params: expected shape (3 nu + 1,), got {params.shape}")
        nu = (params.size - 1) // 3
        self.params = params
        amp, phase, self.bias = params[:nu], params[nu:2 * nu], params[2 * nu:3 * nu]
        self.sin_weight, self.cos_weight = amp * np.cos(phase), amp * np.sin(phase)

    @property
    def frequency(self) -> float:
        return float(self.params[-1])

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        s, c = obs[:, -2:-1], obs[:, -1:]  # (N, 1) each
        return np.clip(self.bias + self.sin_weight * s + self.cos_weight * c, -1.0, 1.0)


def tune_gait(iterations: int = 20, seed: int = 0) -> np.ndarray:
    """A HalfCheetah gait (19,) tuned by CEM: 64 candidates scored over 300 steps per
    iteration (20 iterations: about 30 s on one idle core; return about 2000 per 1000 steps)."""
    from hubkit.envs.controllers import CEMConfig, cem_gait

    cfg = CEMConfig(population=64, iterations=iterations, horizon=300, seed=seed, num_threads=1)
    return cem_gait(cfg)[0]


def halfcheetah_task(params: np.ndarray) -> Task:
    """HalfCheetah with the gait `params` (3 nu + 1,) as the expert, its phase in the obs."""
    expert = GaitExpert(params)

    def make_env(num_envs: int, seed: int, **overrides):
        from hubkit.envs.vector import MujocoVectorEnv
        from hubkit.imitation.phase import PhaseObservation

        env = MujocoVectorEnv("HalfCheetah", num_envs=num_envs, seed=seed, **overrides)
        return PhaseObservation(env, expert.frequency)

    return Task("HalfCheetah", make_env, expert, "CEM open-loop gait (policy input: obs + phase)",
                drift_steps=300, drift_overrides={"max_episode_steps": 0}, phase_features=2)


class PPOExpert:
    """A saved PPO policy (`hubkit.rl.train`'s policy.pt) played deterministically.

    Observations go through the run's saved normalization (clipped to +-10, as
    Gymnasium's NormalizeObservation wrapper did during training); actions are
    the Gaussian's mean, clipped to the action range [-1, 1].
    """

    def __init__(self, path: str | Path) -> None:
        from hubkit.rl.plots import load_policy

        if not Path(path).exists():
            raise FileNotFoundError(
                f"expert: no policy at {path}; train one with `python -m hubkit.rl.train ppo "
                "--env hubkit/Hopper-v5 --preset mujoco --out DIR` and pass DIR/policy.pt")
        self.policy, ckpt = load_policy(path)
        stats = ckpt["obs_stats"]
        self.norm = (None if stats is None else
                     Normalizer(np.array(stats["mean"]), np.sqrt(np.array(stats["var"]) + 1e-8)))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        import torch

        x = obs if self.norm is None else np.clip(self.norm(obs), -10.0, 10.0)
        # subtle: a (N, 11) batch through a 64-wide MLP; on a busy 2-core machine two
        # OpenMP threads make each call about 20x slower than one (measured 13.5 s vs 0.6 s)
        with one_thread():
            action, _, _ = self.policy.act(torch.as_tensor(x, dtype=torch.float32),
                                           deterministic=True)
        return np.clip(self.policy.env_action(action), -1.0, 1.0).astype(np.float64)


def hopper_task(expert_path: str | Path | None = None) -> Task:
    """Hopper with a PPO expert (default: the committed 141k-step run, return about 1100)."""
    expert = PPOExpert(HOPPER_PPO if expert_path is None else expert_path)

    def make_env(num_envs: int, seed: int, **overrides):
        from hubkit.envs.vector import MujocoVectorEnv

        return MujocoVectorEnv("Hopper", num_envs=num_envs, seed=seed, **overrides)

    return Task("Hopper", make_env, expert, "PPO policy (RL track, deterministic)",
                drift_steps=300,
                drift_overrides={"max_episode_steps": 0, "terminate_when_unhealthy": False})


def make_task(name: str, expert: str | Path | None = None, cem_iterations: int = 20,
              seed: int = 0) -> Task:
    """The task called `name` ("reacher", "halfcheetah" or "hopper").

    Args:
        expert: Hopper: a PPO policy.pt (default: the committed run); HalfCheetah:
            a JSON file holding a list of gait parameters (default: run CEM now).
        cem_iterations, seed: HalfCheetah's CEM search when no gait is given.
    """
    if name == "reacher":
        return reacher_task()
    if name == "halfcheetah":
        params = (tune_gait(cem_iterations, seed) if expert is None
                  else np.array(_read_json(expert), dtype=np.float64))
        return halfcheetah_task(params)
    if name == "hopper":
        return hopper_task(expert)
    raise ValueError(f"name: expected one of {NAMES}, got {name!r}")


def _read_json(path: str | Path):
    import json

    return json.loads(Path(path).read_text())
