"""Domain randomization's draws: which physical parameters change, over which ranges, in what order.

A policy trained in one simulator meets a real robot whose masses and friction
differ; training and evaluating across randomized dynamics (Tobin et al., 2017,
https://arxiv.org/abs/1703.06907; Peng et al., 2018, https://arxiv.org/abs/1710.06537)
measures and buys robustness.

The rules, shared by the Python reference env (`ReferenceVectorEnv(dynamics=...)`)
and the C++ vector env's wrapper (`hubkit.envs.randomization.DomainRandomization`):

* three scale factors per env per episode, drawn uniformly from
  `DynamicsRanges`: mass (every `body_mass`), friction (every geom's sliding,
  torsional and rolling `geom_friction`) and damping (every `dof_damping`);
  each multiplies the model's nominal value;
* one generator, `np.random.default_rng(seed)`, re-created by `reset(seed=...)`;
* `reset` draws for every env in index order; after a step, every env whose
  episode just ended draws, in index order, and its new dynamics apply from
  its (NEXT_STEP) reset on.

So the same seed gives the same dynamics sequence in both envs, for any
thread count.

Shapes: N envs; scales (N, 3) as (mass, friction, damping).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PARAMETERS = ("body_mass", "geom_friction", "dof_damping")
"""The MjModel fields scaled, in the order of the three scale factors."""


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
        """ValueError naming the range unless 0 < low <= high for all three."""
        for name in ("mass", "friction", "damping"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name} range must satisfy 0 < low <= high, got {(lo, hi)}")


class DynamicsSampler:
    """Draws each env's scale factors and turns them into model parameters.

    Args:
        model: the nominal `mujoco.MjModel` (read once, never changed).
        num_envs: N.
        ranges: DynamicsRanges.
        seed: seeds the generator; `reseed(seed)` re-creates it.

    Example:
        >>> from hubkit.envs.reference import load_model, task_spec
        >>> s = DynamicsSampler(load_model(task_spec("Hopper")), 2, DynamicsRanges(), seed=0)
        >>> mass, friction, damping = s.draw(0)
        >>> s.scales.shape
        (2, 3)
    """

    def __init__(self, model, num_envs: int, ranges: DynamicsRanges, seed: int | None = None):
        ranges.check()
        self.ranges = ranges
        self.nominal = tuple(getattr(model, name).copy() for name in PARAMETERS)
        self.scales = np.ones((num_envs, 3))
        self.reseed(seed)

    def reseed(self, seed: int | None) -> None:
        """A fresh generator from `seed` (None: fresh entropy)."""
        self.rng = np.random.default_rng(seed)

    def draw(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Draw env i's scales; returns its (body_mass (nbody,), geom_friction (ngeom*3,),
        dof_damping (nv,)), flat float64 arrays ready for the model."""
        r = self.ranges
        lows, highs = zip(r.mass, r.friction, r.damping, strict=True)
        self.scales[i] = self.rng.uniform(lows, highs)
        return tuple((p * s).ravel() for p, s in zip(self.nominal, self.scales[i], strict=True))
