"""Domain randomization: new masses, friction and damping for every episode.

A policy trained in one simulator meets a real robot whose masses and friction
differ; training and evaluating across randomized dynamics (Tobin et al., 2017,
https://arxiv.org/abs/1703.06907; Peng et al., 2018, https://arxiv.org/abs/1710.06537)
measures and buys robustness. `DomainRandomization` wraps hubkit's C++ vector
env: at every reset, each env draws scale factors from the given ranges and
multiplies its own model's nominal body masses, geom friction and joint
damping by them. Draws come from one seeded NumPy generator, in env order, so
the same seed gives the same dynamics sequence for any thread count.

`robustness_curve` runs a policy at growing perturbation sizes and
`plot_robustness` draws return against perturbation size (PNG).

Shapes: N envs; scales (N, 3) as (mass, friction, damping).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hubkit.envs.vector import MujocoVectorEnv


@dataclass
class DynamicsRanges:
    """Ranges of multiplicative scale factors, drawn uniformly per env per episode."""

    mass: tuple[float, float] = (0.8, 1.2)
    """Scale of every body mass."""
    friction: tuple[float, float] = (0.7, 1.3)
    """Scale of every geom's sliding, torsional and rolling friction."""
    damping: tuple[float, float] = (0.8, 1.2)
    """Scale of every dof's joint damping."""

    @classmethod
    def symmetric(cls, size: float) -> DynamicsRanges:
        """All three ranges (1 - size, 1 + size)."""
        if not 0 <= size < 1:
            raise ValueError(f"size must be in [0, 1), got {size}")
        r = (1.0 - size, 1.0 + size)
        return cls(mass=r, friction=r, damping=r)

    def check(self) -> None:
        for name in ("mass", "friction", "damping"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name} range must satisfy 0 < low <= high, got {(lo, hi)}")


class DomainRandomization:
    """Wrap a MujocoVectorEnv so every episode starts with freshly drawn dynamics.

    Args:
        env: the vector env (its per-env models are changed in place).
        ranges: DynamicsRanges.
        seed: seeds the scale draws (reset(seed=...) reseeds).

    Example:
        >>> env = DomainRandomization(MujocoVectorEnv("Hopper", num_envs=2), DynamicsRanges())
        >>> obs, infos = env.reset(seed=0)
        >>> infos["dynamics_scale"].shape
        (2, 3)
    """

    def __init__(self, env: MujocoVectorEnv, ranges: DynamicsRanges, seed: int | None = None):
        ranges.check()
        self.env, self.ranges = env, ranges
        self.num_envs = env.num_envs
        self.rng = np.random.default_rng(seed)
        m = env.model
        self.nominal = (m.body_mass.copy(), m.geom_friction.copy(), m.dof_damping.copy())
        self.scales = np.ones((self.num_envs, 3))

    def _draw(self, i: int) -> None:
        lows, highs = zip(self.ranges.mass, self.ranges.friction, self.ranges.damping, strict=True)
        self.scales[i] = self.rng.uniform(lows, highs)
        mass, friction, damping = self.nominal
        s = self.scales[i]
        self.env.core.set_dynamics(i, mass * s[0], (friction * s[1]).ravel(), damping * s[2])

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Draw dynamics for every env and reset; infos["dynamics_scale"] is (N, 3)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        for i in range(self.num_envs):
            self._draw(i)
        obs, infos = self.env.reset(seed=seed)
        return obs, {**infos, "dynamics_scale": self.scales.copy()}

    def step(self, actions):
        """Step; envs whose episode just ended draw the dynamics of their next one."""
        obs, rew, term, trunc, infos = self.env.step(actions)
        for i in np.flatnonzero(term | trunc):
            self._draw(int(i))  # takes effect at the NEXT_STEP reset
        return obs, rew, term, trunc, infos


def average_return(env, policy: Callable[[np.ndarray], np.ndarray], steps: int,
                   seed: int = 0) -> float:
    """Mean per-env sum of rewards over `steps` steps (episodes restart as they end)."""
    obs, _ = env.reset(seed=seed)
    total = np.zeros(env.num_envs)
    for _ in range(steps):
        obs, rew, _, _, _ = env.step(policy(obs))
        total += rew
    return float(total.mean())


def robustness_curve(task: str, make_policy: Callable[[], Callable[[np.ndarray], np.ndarray]],
                     sizes=(0.0, 0.2, 0.4, 0.6, 0.8), num_envs: int = 8, steps: int = 200,
                     seed: int = 0, num_threads: int = 2) -> np.ndarray:
    """Average return at each perturbation size; returns (len(sizes),).

    `make_policy()` gives a fresh obs -> actions callable for each size (so a
    policy with internal state, like an open-loop gait's clock, starts over).
    """
    out = []
    for size in sizes:
        env = MujocoVectorEnv(task, num_envs=num_envs, num_threads=num_threads)
        wrapped = DomainRandomization(env, DynamicsRanges.symmetric(size), seed=seed)
        out.append(average_return(wrapped, make_policy(), steps, seed=seed))
    return np.array(out)


def plot_robustness(sizes, returns: dict[str, np.ndarray], path: str, title: str = "") -> str:
    """Plot return against perturbation size, one line per policy; writes a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, r in returns.items():
        ax.plot(sizes, r, marker="o", label=name)
    ax.set_xlabel("perturbation size s (scales drawn from [1-s, 1+s])")
    ax.set_ylabel("average return")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
