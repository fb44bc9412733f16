"""Tune a HalfCheetah gait with CEM, run the Reacher controller, and measure robustness.

    python -m hubkit.envs.train                       # about 30 s on 2 CPU cores
    python -m hubkit.envs.train --iterations 3 --out runs/envs-quick

Everything goes under --out (default runs/envs-<time>/):
  envs-trajectories.png   Reacher fingertip paths; HalfCheetah x(t), CEM gait vs zero action
  envs-robustness.png     average return against the size of the mass/friction/damping
                          perturbation, for both controllers
  envs-results.json       the numbers behind both plots
  mujoco-warnings.txt     only if MuJoCo warned (e.g. an unstable simulation)
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import Iterator

import numpy as np

from hubkit import runlog
from hubkit.envs import controllers as C
from hubkit.envs import randomization as D

PROG = "python -m hubkit.envs.train"


def gait_policy(params: np.ndarray, dt: float):
    """An obs -> actions callable that plays the open-loop gait, one call per step."""
    t = [0]

    def policy(obs: np.ndarray) -> np.ndarray:
        a = C.gait_actions(np.tile(params, (len(obs), 1)), t[0], dt)
        t[0] += 1
        return a

    return policy


@contextlib.contextmanager
def mujoco_warnings() -> Iterator[list[str]]:
    """Collect MuJoCo's warnings in a list instead of printing them and appending
    them to MUJOCO_LOG.TXT in the current directory; the previous handler comes back after."""
    import mujoco

    seen: list[str] = []
    previous = mujoco.get_mju_user_warning()
    mujoco.set_mju_user_warning(seen.append)
    try:
        yield seen
    finally:
        mujoco.set_mju_user_warning(previous)


def _sizes(text: str) -> tuple[float, ...]:
    try:
        sizes = tuple(float(s) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or any(not 0 <= s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated numbers in [0, 1), got {text!r}")
    return sizes


def _at_least(low: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if value < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return value

    parse.__name__ = f"integer >= {low}"
    return parse


def build_parser():
    """The command line: runlog's --out/--quiet plus the run's sizes."""
    p = runlog.parser(PROG, __doc__, "envs")
    p.add_argument("--iterations", type=_at_least(1), default=8, help="CEM iterations (default 8)")
    p.add_argument("--population", type=_at_least(2), default=16,
                   help="CEM candidates per iteration, one env each (default 16)")
    p.add_argument("--horizon", type=_at_least(1), default=150,
                   help="env steps each gait candidate is scored on (default 150)")
    p.add_argument("--sizes", type=_sizes, default=(0.0, 0.2, 0.4, 0.6, 0.8),
                   help="perturbation sizes for the robustness curves (default 0,0.2,0.4,0.6,0.8)")
    p.add_argument("--robust-steps", type=_at_least(1), default=150,
                   help="env steps per robustness measurement (default 150)")
    p.add_argument("--threads", type=_at_least(1), default=2,
                   help="C++ threads per vector env (default 2)")
    p.add_argument("--seed", type=int, default=0)
    return p


def tune_gait(args, show: bool, track=None) -> tuple[np.ndarray, np.ndarray]:
    """CEM on HalfCheetah, one progress update (logged to `track`) and one line per iteration."""
    cfg = C.CEMConfig(iterations=args.iterations, population=args.population,
                      horizon=args.horizon, seed=args.seed, num_threads=args.threads)
    with runlog.Progress(cfg.iterations, "CEM iteration", enabled=show, tracker=track) as bar:
        def on_iteration(i: int, returns: np.ndarray) -> None:
            best, mean = float(returns.max()), float(returns.mean())
            bar.log(f"CEM iteration {i + 1}/{cfg.iterations}: best return {best:.1f}, "
                    f"population mean {mean:.1f}")
            bar.update(best_return=best, mean_return=mean)

        return C.cem_gait(cfg, on_iteration)


def robustness(args, gait: np.ndarray, show: bool, track=None) -> dict[str, np.ndarray]:
    """Both controllers' average return at each perturbation size, one line per variant.

    `track` gets "<task>/avg_return" with step = the index of the perturbation size.
    """
    dt = 0.01 * 5  # HalfCheetah: timestep 0.01, frame_skip 5
    variants = {"Reacher: reach controller": ("Reacher", lambda: C.reach_policy),
                "HalfCheetah: CEM gait": ("HalfCheetah", lambda: gait_policy(gait, dt))}
    curves = {}
    with runlog.Progress(len(variants) * len(args.sizes), "robustness variant",
                         enabled=show) as bar:
        for name, (task, make_policy) in variants.items():
            def on_size(size: float, ret: float, name=name, task=task) -> None:
                bar.log(f"{name}, perturbation {size:.2f}: average return {ret:.2f}")
                bar.update(avg_return=ret)
                if track is not None:
                    track.log(list(args.sizes).index(size), **{f"{task}/avg_return": ret,
                                                                f"{task}/size": size})

            curves[name] = D.robustness_curve(task, make_policy, args.sizes,
                                              steps=args.robust_steps, seed=args.seed,
                                              num_threads=args.threads, on_size=on_size)
    return curves


def write_results(outputs: runlog.Outputs, args, gait, history, curves, warnings) -> None:
    """The two PNGs, the JSON of every number, and MuJoCo's warnings if it had any."""
    C.plot_trajectories(str(outputs.path("envs-trajectories.png")), gait=gait, seed=args.seed)
    D.plot_robustness(args.sizes, curves, str(outputs.path("envs-robustness.png")),
                      title="return vs dynamics perturbation")
    results = {"cem_best_return_per_iteration": history.tolist(), "gait_params": gait.tolist(),
               "sizes": list(args.sizes), "robustness": {k: v.tolist() for k, v in curves.items()}}
    outputs.path("envs-results.json").write_text(json.dumps(results, indent=2) + "\n")
    if warnings:
        outputs.path("mujoco-warnings.txt").write_text("\n".join(warnings) + "\n")


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run, and list what was written."""
    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    show = not args.quiet
    with runlog.quiet_third_party(), mujoco_warnings() as warnings, \
            runlog.tracker(args, outputs) as track:
        gait, history = tune_gait(args, show, track)
        curves = robustness(args, gait, show, track)
        write_results(outputs, args, gait, history, curves, warnings)
    print(f"CEM best return per iteration: {np.round(history, 1).tolist()}")
    for name, curve in curves.items():
        print(f"{name}: average return {np.round(curve, 2).tolist()} at sizes {list(args.sizes)}")
    if warnings:
        print(f"MuJoCo warned {len(warnings)} time(s); see mujoco-warnings.txt")
    outputs.report()


if __name__ == "__main__":
    runlog.run_main(main)
