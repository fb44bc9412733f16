"""Sim-to-real perturbations beyond the physics: actuator gain, observation noise, action delay.

`hubkit.envs.dynamics` randomizes the model (masses, friction, damping) in both
the Python reference env and the C++ vector env. A real robot also has motors
weaker or stronger than modelled, noisy sensors and a control loop that lags
(Peng et al., 2018, https://arxiv.org/abs/1710.06537; Tan et al., 2018,
https://arxiv.org/abs/1804.10332). `Perturbed` adds those three on the
interface, so one wrapper serves both envs with the same semantics:

* actuator gain g, drawn uniformly per env per episode: the action that
  reaches the simulator is g * a (MuJoCo then clamps it to the control range,
  as a saturated motor would);
* action delay d, an integer drawn uniformly from [low, high] per env per
  episode: the simulator receives the action chosen d steps earlier (zeros for
  the first d steps of an episode);
* observation noise: every observation (resets included) gets independent
  N(0, obs_noise^2) noise on every entry.

Draw rules (the same as `hubkit.envs.dynamics`, with a generator of its own):
`np.random.default_rng(seed)`, re-created by `reset(seed=...)`; `reset` draws
(gain, delay) for every env in index order, then the noise; after a step,
every env whose episode just ended draws its next (gain, delay), in index
order, before the step's noise. Under NEXT_STEP autoreset the step that resets
an env ignores its action, so the delay line restarts there with zeros.

Shapes: N envs, A action dim; obs (N, obs_dim); actions (N, A).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hubkit.envs.dynamics import DynamicsRanges

__all__ = ["Perturbations", "Perturbed", "ReferenceAsVector", "make_randomized"]


@dataclass
class Perturbations:
    """Interface perturbations of a sim-to-real gap; the defaults change nothing."""

    gain: tuple[float, float] = (1.0, 1.0)
    """Range of the actuator gain g (action sent = g * action chosen)."""
    delay: tuple[int, int] = (0, 0)
    """Range (inclusive) of the action delay in env steps."""
    obs_noise: float = 0.0
    """Standard deviation of the Gaussian noise on every observation entry."""

    @classmethod
    def symmetric(cls, size: float, max_delay: int = 2, noise: float = 0.05) -> Perturbations:
        """Gain (1 - size, 1 + size), delay [0, round(size * max_delay)], noise size * noise."""
        if not 0 <= size < 1:
            raise ValueError(f"size must be in [0, 1), got {size}")
        return cls(gain=(1.0 - size, 1.0 + size), delay=(0, round(size * max_delay)),
                   obs_noise=size * noise)

    def check(self) -> None:
        """ValueError naming the field unless the ranges are valid."""
        if not 0 <= self.gain[0] <= self.gain[1]:
            raise ValueError(f"gain range must satisfy 0 <= low <= high, got {self.gain}")
        lo, hi = self.delay
        if int(lo) != lo or int(hi) != hi or not 0 <= lo <= hi:
            raise ValueError(f"delay range must be integers 0 <= low <= high, got {self.delay}")
        if not self.obs_noise >= 0:
            raise ValueError(f"obs_noise must be >= 0, got {self.obs_noise}")


class ReferenceAsVector:
    """The reference env behind the vector API the C++ env has: reset -> (obs, infos),
    step -> (obs, rewards, terminated, truncated, infos)."""

    def __init__(self, env):
        self.env, self.num_envs = env, env.num_envs
        self.action_dim = env.action_dim

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        obs = self.env.reset(seed=seed)
        scales = {} if self.env.sampler is None else {
            "dynamics_scale": self.env.sampler.scales.copy()}
        return obs, scales

    def step(self, actions):
        return (*self.env.step(actions), {})


class Perturbed:
    """Wrap a vector env (C++ `MujocoVectorEnv`/`DomainRandomization` or `ReferenceAsVector`)
    with actuator gain, action delay and observation noise.

    Args:
        env: a vector env with `num_envs`, reset(seed=) -> (obs, infos) and a 5-tuple step.
        perturbations: Perturbations.
        seed: seeds the draws and the noise; `reset(seed=...)` reseeds.

    Example:
        >>> from hubkit.envs.reference import ReferenceVectorEnv
        >>> env = Perturbed(ReferenceAsVector(ReferenceVectorEnv("Reacher", 2)),
        ...                 Perturbations(gain=(0.5, 1.5), delay=(1, 1)), seed=0)
        >>> obs, infos = env.reset(seed=0)
        >>> obs.shape, infos["action_delay"].tolist()
        ((2, 10), [1, 1])
    """

    def __init__(self, env, perturbations: Perturbations, seed: int | None = None):
        perturbations.check()
        self.env, self.p = env, perturbations
        self.num_envs = env.num_envs
        self.gains = np.ones(self.num_envs)
        self.delays = np.zeros(self.num_envs, dtype=np.int64)
        self.lines: list[list[np.ndarray]] = [[] for _ in range(self.num_envs)]
        self.restarting = np.zeros(self.num_envs, dtype=bool)
        self.rng = np.random.default_rng(seed)

    def _draw(self, i: int) -> None:
        self.gains[i] = self.rng.uniform(*self.p.gain)
        self.delays[i] = self.rng.integers(self.p.delay[0], self.p.delay[1] + 1)
        self.restarting[i] = True  # the delay line restarts at this env's next reset

    def _noisy(self, obs: np.ndarray) -> np.ndarray:
        if self.p.obs_noise == 0:
            return obs
        return obs + self.p.obs_noise * self.rng.standard_normal(obs.shape)

    def _infos(self, infos: dict) -> dict:
        return {**infos, "actuator_gain": self.gains.copy(), "action_delay": self.delays.copy()}

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Draw (gain, delay) for every env, reset; infos add "actuator_gain", "action_delay"."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        for i in range(self.num_envs):
            self._draw(i)
        obs, infos = self.env.reset(seed=seed)
        self._restart_lines(np.ones(self.num_envs, dtype=bool))
        return self._noisy(obs), self._infos(infos)

    def _restart_lines(self, which: np.ndarray) -> None:
        for i in np.flatnonzero(which):
            self.lines[i] = [np.zeros(self.env.action_dim) for _ in range(self.delays[i])]
            self.restarting[i] = False

    def sent_actions(self, actions: np.ndarray) -> np.ndarray:
        """Push this step's actions through each env's delay line and gain (N, A)."""
        actions = np.asarray(actions, dtype=np.float64)
        out = np.zeros_like(actions)
        for i in range(self.num_envs):
            if self.restarting[i]:
                continue  # NEXT_STEP reset step: the env ignores the action
            self.lines[i].append(actions[i].copy())
            out[i] = self.gains[i] * self.lines[i].pop(0)
        return out

    def step(self, actions):
        """Step with delayed, scaled actions; ended envs draw their next (gain, delay)."""
        restarting = self.restarting.copy()
        sent = self.sent_actions(actions)
        self._restart_lines(restarting)
        obs, rew, term, trunc, infos = self.env.step(sent)
        for i in np.flatnonzero(np.asarray(term) | np.asarray(trunc)):
            self._draw(int(i))
        return self._noisy(obs), rew, term, trunc, self._infos(infos)


def make_randomized(task, num_envs: int, dynamics: DynamicsRanges | None = None,
                    perturbations: Perturbations | None = None, seed: int | None = None,
                    backend: str = "reference", num_threads: int = 1):
    """One randomized vector env, physics and interface, on either backend.

    Args:
        task: a task name or TaskSpec.
        dynamics: DynamicsRanges (None: nominal physics).
        perturbations: Perturbations (None: none).
        seed: seeds both draw generators.
        backend: "reference" (Python) or "cpp" (hubkit's C++ vector env).
    """
    if backend == "reference":
        from hubkit.envs.reference import ReferenceVectorEnv

        env = ReferenceAsVector(ReferenceVectorEnv(task, num_envs, seed=seed, dynamics=dynamics,
                                                   dynamics_seed=seed))
    elif backend == "cpp":
        from hubkit.envs.randomization import DomainRandomization
        from hubkit.envs.vector import MujocoVectorEnv

        env = MujocoVectorEnv(task, num_envs, num_threads=num_threads, seed=seed)
        env.action_dim = env.single_action_space.shape[0]
        if dynamics is not None:
            env = DomainRandomization(env, dynamics, seed=seed)
            env.action_dim = env.env.action_dim
    else:
        raise ValueError(f"backend must be 'reference' or 'cpp', got {backend!r}")
    return Perturbed(env, perturbations or Perturbations(), seed=seed)
