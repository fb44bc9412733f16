"""Domain randomization on the C++ vector env, and how robust a controller is to it.

`DomainRandomization` wraps hubkit's C++ vector env: at every reset, each env
draws scale factors from the given ranges and multiplies its own model's
nominal body masses, geom friction and joint damping by them. The rules (what
is scaled, the ranges, the seeded draw order) live in `hubkit.envs.dynamics`
and are shared with the Python reference env (`ReferenceVectorEnv(dynamics=...)`),
so the same seed gives the same dynamics in both, for any thread count.

`robustness_curve` runs a policy at growing perturbation sizes and
`plot_robustness` draws return against perturbation size (PNG).

Shapes: N envs; scales (N, 3) as (mass, friction, damping).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hubkit.envs.dynamics import DynamicsRanges, DynamicsSampler
from hubkit.envs.vector import MujocoVectorEnv

__all__ = ["DomainRandomization", "DynamicsRanges", "average_return", "plot_robustness",
           "robustness_curve"]


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
        self.env, self.ranges = env, ranges
        self.num_envs = env.num_envs
        self.sampler = DynamicsSampler(env.model, env.num_envs, ranges, seed)

    @property
    def scales(self) -> np.ndarray:
        """Each env's current (mass, friction, damping) scales (N, 3)."""
        return self.sampler.scales

    def _draw(self, i: int) -> None:
        self.env.core.set_dynamics(i, *self.sampler.draw(i))

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        """Draw dynamics for every env and reset; infos["dynamics_scale"] is (N, 3)."""
        if seed is not None:
            self.sampler.reseed(seed)
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
                     seed: int = 0, num_threads: int = 2,
                     on_size: Callable[[float, float], None] | None = None) -> np.ndarray:
    """Average return at each perturbation size; returns (len(sizes),).

    `make_policy()` gives a fresh obs -> actions callable for each size (so a
    policy with internal state, like an open-loop gait's clock, starts over).
    `on_size(size, average_return)` is called after each size (progress lines).
    """
    out = []
    for size in sizes:
        env = MujocoVectorEnv(task, num_envs=num_envs, num_threads=num_threads)
        wrapped = DomainRandomization(env, DynamicsRanges.symmetric(size), seed=seed)
        out.append(average_return(wrapped, make_policy(), steps, seed=seed))
        if on_size is not None:
            on_size(float(size), out[-1])
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
