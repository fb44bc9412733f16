"""System identification: recover randomized physical parameters from a trajectory.

Domain randomization trains for every plausible robot; system identification
measures the one at hand. Given transitions (state, action, next state) logged
on an env whose mass, friction and damping scales are unknown (drawn by
`hubkit.envs.dynamics`), find the scales theta = (mass, friction, damping)
whose simulator best predicts each next state from the logged one:

    theta* = argmin_theta  sum_t || f_theta(s_t, a_t) - s_{t+1} ||^2

a nonlinear least-squares problem in three unknowns, solved by
`scipy.optimize.least_squares` (trust region, finite-difference Jacobian).
The residual is one-step, so errors never compound along the trajectory.

Run: `python -m hubkit.envs.sysid --out runs/sysid` (about a minute; writes
results.json and the identification error against sensor noise, sysid.png).

Shapes: T transitions; qpos (T, nq), qvel (T, nv), actions (T, nu); theta (3,).
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass

import numpy as np

from hubkit.envs.dynamics import DynamicsRanges, DynamicsSampler
from hubkit.envs.reference import (
    ReferenceVectorEnv,
    TaskSpec,
    physics_step,
    reset_to,
    task_spec,
)


@dataclass
class Transitions:
    """Logged one-step transitions of one env (full MuJoCo state, not the observation)."""

    qpos: np.ndarray
    qvel: np.ndarray
    actions: np.ndarray
    next_qpos: np.ndarray
    next_qvel: np.ndarray


def collect(spec: TaskSpec, scales, steps: int, seed: int = 0, noise: float = 0.0) -> Transitions:
    """Run random actions on a reference env with these (mass, friction, damping) scales.

    Steps that are NEXT_STEP resets are left out (no physics ran in them);
    `noise` adds N(0, noise^2) sensor noise to every logged qpos and qvel entry.
    """
    ranges = DynamicsRanges(*((float(s), float(s)) for s in scales))
    env = ReferenceVectorEnv(spec, 1, seed=seed, dynamics=ranges, dynamics_seed=seed)
    env.reset(seed=seed)
    rng, data, rows = np.random.default_rng(seed), env.datas[0], []
    for _ in range(steps):
        a = rng.uniform(-1, 1, (1, env.action_dim))
        before = None if env.needs_reset[0] else (data.qpos.copy(), data.qvel.copy())
        env.step(a)
        if before is not None:
            rows.append((*before, a[0], data.qpos.copy(), data.qvel.copy()))
    cols = [np.array(col) for col in zip(*rows, strict=True)]
    for j in (0, 1, 3, 4):  # states, not actions
        cols[j] = cols[j] + noise * rng.standard_normal(cols[j].shape)
    return Transitions(*cols)


def residuals(theta: np.ndarray, spec: TaskSpec, sampler: DynamicsSampler, model, data,
              tr: Transitions) -> np.ndarray:
    """One-step prediction errors of the simulator with scales `theta` (T * (nq + nv),)."""
    mass, friction, damping = (p * s for p, s in zip(sampler.nominal, theta, strict=True))
    model.body_mass[:], model.geom_friction[:], model.dof_damping[:] = mass, friction, damping
    out = []
    for t in range(len(tr.actions)):
        # subtle: reset_to clears the solver's warm start, which the logged run had;
        # contacts then differ in the last bits, a floor on the reachable error.
        reset_to(model, data, tr.qpos[t], tr.qvel[t])
        physics_step(spec, model, data, tr.actions[t])
        out.append(np.concatenate([data.qpos - tr.next_qpos[t], data.qvel - tr.next_qvel[t]]))
    return np.concatenate(out)


def identify(spec: TaskSpec, tr: Transitions, start=(1.0, 1.0, 1.0),
             bounds=(0.2, 5.0)) -> tuple[np.ndarray, float]:
    """Least-squares scales (3,) and the final root-mean-square residual."""
    import mujoco
    from scipy.optimize import least_squares

    from hubkit.envs.reference import load_model

    nominal = load_model(spec)
    sampler = DynamicsSampler(nominal, 1, DynamicsRanges())
    model = copy.copy(nominal)
    data = mujoco.MjData(model)
    fit = least_squares(residuals, np.array(start, float), bounds=bounds, diff_step=1e-4,
                        args=(spec, sampler, model, data, tr), x_scale="jac")
    return fit.x, float(np.sqrt(np.mean(fit.fun ** 2)))


@dataclass
class SysIdConfig:
    """One identification experiment: draw true scales, log, identify."""

    task: str = "HalfCheetah"
    """A task with contacts, so friction is observable."""
    trials: int = 5
    """Independent draws of the true scales."""
    steps: int = 150
    """Logged env steps per trial (random actions)."""
    size: float = 0.4
    """True scales are drawn from [1 - size, 1 + size]."""
    noises: tuple[float, ...] = (0.0, 1e-3, 1e-2)
    """Sensor noise std on the logged states; every trial is identified at each."""
    seed: int = 0


def run(cfg: SysIdConfig, progress=None) -> list[dict]:
    """Identify `cfg.trials` random robots at each noise level; one dict per (trial, noise)."""
    spec = task_spec(cfg.task)
    rng = np.random.default_rng(cfg.seed)
    rows = []
    for k in range(cfg.trials):
        true = rng.uniform(1 - cfg.size, 1 + cfg.size, 3)
        for noise in cfg.noises:
            tr = collect(spec, true, cfg.steps, seed=cfg.seed + k, noise=noise)
            found, rms = identify(spec, tr)
            err = np.abs(found - true) / true
            rows.append({"noise": noise, "true": true.tolist(), "found": found.tolist(),
                         "relative_error": err.tolist(), "rms_residual": rms})
        if progress is not None:
            progress.update(max_rel_error=float(err.max()))
    return rows


def mean_errors(rows: list[dict]) -> dict[float, list[float]]:
    """Mean relative error of (mass, friction, damping) at each noise level."""
    noises = sorted({r["noise"] for r in rows})
    return {n: np.mean([r["relative_error"] for r in rows if r["noise"] == n], 0).tolist()
            for n in noises}


def plot(rows: list[dict], path: str) -> str:
    """Mean relative error of each identified scale against sensor noise (PNG, log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = mean_errors(rows)
    noises = [max(n, 1e-5) for n in table]  # noise 0 drawn at 1e-5 on the log axis
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    for j, name in enumerate(("mass", "friction", "damping")):
        ax.loglog(noises, [max(e[j], 1e-16) for e in table.values()], marker="o", label=name)
    ax.set_xlabel("sensor noise std on logged qpos, qvel (0 drawn at 1e-5)")
    ax.set_ylabel("mean relative error")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.sysid", __doc__, "sysid")
    p.add_argument("--task", default=SysIdConfig.task)
    p.add_argument("--trials", type=int, default=SysIdConfig.trials)
    p.add_argument("--steps", type=int, default=SysIdConfig.steps)
    p.add_argument("--size", type=float, default=SysIdConfig.size)
    p.add_argument("--noises", type=float, nargs="+", default=list(SysIdConfig.noises),
                   help="sensor noise std levels")
    p.add_argument("--seed", type=int, default=SysIdConfig.seed)
    return p


def main(argv: list[str] | None = None) -> None:
    """Identify random robots, write results.json and sysid.png."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    cfg = SysIdConfig(args.task, args.trials, args.steps, args.size, tuple(args.noises),
                      args.seed)
    outputs = runlog.Outputs(args.out, args._run_name)
    with runlog.tracker(args, outputs) as track, \
            runlog.Progress(cfg.trials, "trial", enabled=not args.quiet, tracker=track) as bar:
        rows = run(cfg, progress=bar)
    table = {str(n): dict(zip(("mass", "friction", "damping"), e, strict=True))
             for n, e in mean_errors(rows).items()}
    summary = {"config": asdict(cfg), "mean_relative_error_by_noise": table, "trials": rows}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(rows, str(outputs.path("sysid.png")))
    for noise, errs in table.items():
        print(f"noise {noise}: mean relative error " +
              ", ".join(f"{k} {v:.2e}" for k, v in errs.items()))
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
