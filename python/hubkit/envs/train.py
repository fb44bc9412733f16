"""Entry point: tune the gait, run the reach controller, and draw the two PNGs.

    python -m hubkit.envs.train --out results/

writes `envs-trajectories.png` (Reacher fingertip paths; HalfCheetah x(t) for
the CEM gait vs zero action) and `envs-robustness.png` (average return against
the size of the mass/friction/damping perturbation, for both controllers).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from hubkit.envs import controllers as C
from hubkit.envs import randomization as D


def gait_policy(params: np.ndarray, dt: float):
    """An obs -> actions callable that plays the open-loop gait, one call per step."""
    t = [0]

    def policy(obs: np.ndarray) -> np.ndarray:
        a = C.gait_actions(np.tile(params, (len(obs), 1)), t[0], dt)
        t[0] += 1
        return a

    return policy


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=".")
    p.add_argument("--iterations", type=int, default=8)
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    best, history = C.cem_gait(C.CEMConfig(iterations=args.iterations))
    print("CEM best return per iteration:", np.round(history, 1).tolist())
    C.plot_trajectories(os.path.join(args.out, "envs-trajectories.png"), gait=best)
    sizes = (0.0, 0.2, 0.4, 0.6, 0.8)
    dt = 0.01 * 5  # HalfCheetah: timestep 0.01, frame_skip 5
    curves = {
        "Reacher: reach controller": D.robustness_curve("Reacher", lambda: C.reach_policy,
                                                        sizes, steps=100),
        "HalfCheetah: CEM gait": D.robustness_curve("HalfCheetah", lambda: gait_policy(best, dt),
                                                    sizes, steps=150),
    }
    for name, curve in curves.items():
        print(name, np.round(curve, 2).tolist())
    D.plot_robustness(sizes, curves, os.path.join(args.out, "envs-robustness.png"),
                      title="return vs dynamics perturbation")


if __name__ == "__main__":
    main()
