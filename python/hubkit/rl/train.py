"""Train REINFORCE, A2C or PPO; compare REINFORCE with and without a baseline; draw a policy.

    python -m hubkit.rl.train ppo --solved-return 475          # CartPole-v1 until solved
    python -m hubkit.rl.train a2c --solved-return 475
    python -m hubkit.rl.train reinforce --seeds 0,1,2,3,4      # baseline vs none, 5 seeds
    python -m hubkit.rl.train ppo --env hubkit/Hopper-v5 --preset mujoco --total-steps 300000
    python -m hubkit.rl.train frames runs/ppo-x/policy.pt      # a frame strip (MuJoCo ids)

Any config field can be set with --set name=value (e.g. --set ent_coef=0.0).
Everything goes under --out (default runs/<command>-<time>/): metrics.jsonl,
policy.pt, curve.png and summary.json (reinforce: variance.png, summary.json).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import sys
import time

import numpy as np
import torch

from hubkit import runlog
from hubkit.rl import a2c, onpolicy, ppo, reinforce

PROG = "python -m hubkit.rl.train"
ALGOS = {"ppo": (ppo.PPOConfig, ppo.train), "a2c": (a2c.A2CConfig, a2c.train),
         "reinforce": (reinforce.ReinforceConfig, reinforce.train)}
PRESETS = {
    # CleanRL's ppo_continuous_action.py settings, with 8 envs x 256 steps (same 2048 batch).
    "mujoco": dict(num_envs=8, num_steps=256, lr=3e-4, update_epochs=10, num_minibatches=32,
                   ent_coef=0.0, norm_obs=True, norm_reward=True, eval_every=50_000,
                   total_steps=1_000_000, env_threads=2),
}


def _value(text: str, default):
    if isinstance(default, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(default, tuple):
        return tuple(int(x) for x in text.split(",") if x)
    if default is None:
        return None if text.lower() == "none" else float(text)
    return type(default)(text)


def make_config(algo: str, args) -> onpolicy.OnPolicyConfig:
    """The algorithm's config: defaults, then --preset, then the flags, then --set."""
    cls = ALGOS[algo][0]
    values = dict(PRESETS.get(args.preset, {}))
    values = {k: v for k, v in values.items() if k in {f.name for f in dataclasses.fields(cls)}}
    for name in ("env_id", "total_steps", "num_envs", "solved_return", "threads"):
        if getattr(args, name, None) is not None:
            values[name] = getattr(args, name)
    base = cls(**values)
    for item in args.set or []:
        key, _, text = item.partition("=")
        if not hasattr(base, key):
            raise SystemExit(f"error: --set {item}: {cls.__name__} has no field {key!r}")
        values[key] = _value(text, getattr(base, key))
    return cls(**values)


def provenance() -> dict:
    """Where and how a run ran: command, host, threads, load (the machine is shared)."""
    return {"command": " ".join([PROG, *sys.argv[1:]]), "python": platform.python_version(),
            "torch": torch.__version__, "cpus": os.cpu_count(),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
            "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def plot_curve(log: list[dict], path, title: str) -> None:
    """Training return (last 100 episodes) and evaluation return against env steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    steps = [r["step"] for r in log]
    ax.plot(steps, [r["train_return"] for r in log], label="train (mean of last 100 episodes)")
    evals = [(r["step"], r["eval_return"]) for r in log if "eval_return" in r]
    if evals:
        ax.plot(*zip(*evals, strict=True), "o-", ms=3, label="deterministic evaluation")
    ax.set(xlabel="env steps", ylabel="episode return", title=title)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_one(algo: str, args) -> None:
    """`ppo`, `a2c`, `reinforce --single`: one run; writes policy, curve, summary."""
    cfg = make_config(algo, args)
    outputs = runlog.Outputs(args.out, algo)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        updates = max(1, cfg.total_steps // (cfg.num_steps * cfg.num_envs))
        with runlog.Progress(updates, "update", enabled=not args.quiet) as bar:
            result = ALGOS[algo][1](cfg, progress=bar, track=track)
    torch.save({"algo": algo, "config": dataclasses.asdict(cfg), "obs_stats": result.obs_stats,
                "state_dict": result.policy.state_dict()}, outputs.path("policy.pt"))
    plot_curve(result.log, outputs.path("curve.png"), f"{algo.upper()} on {cfg.env_id}")
    last100 = result.episode_returns[-100:]
    summary = {"algo": algo, "env_id": cfg.env_id, "seed": cfg.seed, "steps": result.steps,
               "seconds": round(result.seconds, 1), "eval_return": result.eval_return,
               "best_eval_return": result.best_eval_return,
               "train_return_last100": float(np.mean(last100)) if last100 else None,
               "provenance": provenance()}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"{algo} on {cfg.env_id}: evaluation return {result.eval_return:.1f} "
          f"after {result.steps} steps in {result.seconds:.0f} s")
    outputs.report()


def compare_reinforce(args) -> None:
    """REINFORCE with and without a baseline over several seeds: returns and gradient variance."""
    from hubkit.rl.plots import plot_variance

    outputs = runlog.Outputs(args.out, "reinforce")
    seeds = [int(s) for s in args.seeds.split(",")]
    runs: dict[str, list[list[dict]]] = {}
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        with runlog.Progress(2 * len(seeds), "run", enabled=not args.quiet) as bar:
            for baseline in (False, True):
                name = "baseline" if baseline else "no_baseline"
                for seed in seeds:
                    args.set = [*(args.set or []), f"baseline={baseline}", f"seed={seed}"]
                    cfg = make_config("reinforce", args)
                    args.set = args.set[:-2]
                    log = reinforce.train(cfg, track=track.prefixed(f"{name}/seed{seed}/")).log
                    runs.setdefault(name, []).append(log)
                    bar.update(run=f"{name} seed {seed}", train_return=log[-1]["train_return"])
    summary = plot_variance(runs, outputs.path("variance.png"))
    summary.update(seeds=seeds, config=dataclasses.asdict(cfg), provenance=provenance())
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: summary[k] for k in ("mean_grad_var", "final_train_return")}))
    outputs.report()


def frames(args) -> None:
    """A strip of frames of a saved MuJoCo policy's deterministic episode."""
    from hubkit.rl.plots import frame_strip

    outputs = runlog.Outputs(args.out, "frames")
    info = frame_strip(args.policy, outputs.path("frames.png"), count=args.count,
                       every=args.every, seed=args.seed)
    print(f"episode return {info['return']:.1f} over {info['length']} steps")
    outputs.report()


def build_parser():
    """The command line: one sub-command per algorithm, plus `frames`."""
    p = runlog.parser(PROG, __doc__, "rl")
    sub = p.add_subparsers(dest="command", required=True)
    for algo in ALGOS:
        s = runlog.add_arguments(sub.add_parser(algo, help=f"train {algo}"), algo)
        s.add_argument("--env", dest="env_id", default=None, help="Gymnasium id "
                       "(default CartPole-v1; hubkit/Hopper-v5 runs on the C++ vector env)")
        s.add_argument("--total-steps", type=int, default=None, help="env steps to train for")
        s.add_argument("--num-envs", type=int, default=None, help="envs side by side")
        s.add_argument("--seed", type=int, default=0, help="seeds torch, envs, minibatches")
        s.add_argument("--threads", type=int, default=None, help="torch threads (default 1)")
        s.add_argument("--solved-return", type=float, default=None,
                       help="stop once a 100-episode deterministic evaluation reaches this")
        s.add_argument("--preset", choices=sorted(PRESETS), default=None,
                       help="mujoco: CleanRL's continuous-control settings")
        s.add_argument("--set", action="append", metavar="FIELD=VALUE",
                       help="any config field, e.g. --set ent_coef=0.0 (repeatable)")
    r = sub.choices["reinforce"]
    r.add_argument("--seeds", default=None,
                   help="compare with and without a baseline over these seeds, e.g. 0,1,2,3,4")
    f = runlog.add_arguments(sub.add_parser("frames", help="frame strip of a saved policy"),
                             "frames")
    f.add_argument("policy", help="policy.pt written by a MuJoCo run")
    f.add_argument("--count", type=int, default=8, help="frames in the strip")
    f.add_argument("--every", type=int, default=25, help="env steps between frames")
    f.add_argument("--seed", type=int, default=0, help="seeds the episode's reset")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "frames":
        frames(args)
    elif args.command == "reinforce" and args.seeds:
        compare_reinforce(args)
    else:
        args.set = [f"seed={args.seed}", *(args.set or [])]
        train_one(args.command, args)


if __name__ == "__main__":
    runlog.run_main(main)
