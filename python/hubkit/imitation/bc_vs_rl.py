"""Behavioral cloning against RL from scratch at an equal number of environment steps (Reacher).

BC spends its environment steps on expert demonstrations (the reach controller,
`hubkit.imitation.bc.expert_policy`), PPO (`hubkit.rl.ppo`) on its own
exploration; both are scored by the same deterministic evaluation
(`hubkit.imitation.bc.mean_return`). With an expert at hand, BC reaches the
expert's return in a few thousand steps, where PPO has barely started.

Run: `python -m hubkit.imitation.bc_vs_rl --out runs/bc-vs-rl` (writes
results.json and bc_vs_rl.png).
"""

from __future__ import annotations

import json

import numpy as np

from hubkit.imitation.bc import BCConfig, _env, expert_policy, fit_policy, mean_return
from hubkit.imitation.demos import rollout, transitions

BUDGETS = (2048, 8192, 32768)


def bc_at(steps: int, seed: int = 0, eval_episodes: int = 32) -> float:
    """BC's return from steps // 50 expert episodes (Reacher's 50-step time limit)."""
    env = _env(16, seed)
    demos = rollout(env, expert_policy, max(steps // 50, 1), seed)
    policy = fit_policy(*transitions(demos), BCConfig(seed=seed))
    return mean_return(env, policy.act, eval_episodes, 10_000 + seed)


def ppo_at(steps: int, seed: int = 0, eval_episodes: int = 32, progress=None) -> float:
    """PPO's deterministic return after `steps` env steps on hubkit/Reacher-v5."""
    import torch

    from hubkit.rl import ppo

    cfg = ppo.PPOConfig(env_id="hubkit/Reacher-v5", num_envs=8, num_steps=128,
                        total_steps=steps, lr=3e-4, norm_reward=True, eval_every=0,
                        eval_episodes=1, ent_coef=0.0, update_epochs=10, num_minibatches=8,
                        seed=seed)
    policy = ppo.train(cfg, progress=progress).policy

    def act(obs: np.ndarray) -> np.ndarray:
        a, _, _ = policy.act(torch.as_tensor(obs, dtype=torch.float32), deterministic=True)
        return np.clip(policy.env_action(a), -1, 1)

    return mean_return(_env(16, seed), act, eval_episodes, 10_000 + seed)


def plot(table: dict, expert: float, path: str) -> str:
    """Return against env steps for BC and PPO, the expert as a line (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name, row in table.items():
        ax.plot(BUDGETS, row, marker="o", label=name)
    ax.axhline(expert, color="k", ls="--", lw=1, label="expert")
    ax.set_xscale("log")
    ax.set_xlabel("environment steps")
    ax.set_ylabel("evaluation return (Reacher)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.imitation.bc_vs_rl", __doc__, "bc-vs-rl")
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> None:
    """BC and PPO at each budget; write results.json and bc_vs_rl.png."""
    import torch

    from hubkit import runlog

    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    torch.set_num_threads(1)  # small MLPs: one thread is fastest on a shared CPU
    table = {"bc": [], "ppo": []}
    with runlog.tracker(args, outputs) as track, \
            runlog.Progress(len(BUDGETS), "budget", enabled=not args.quiet, tracker=track) as bar:
        for steps in BUDGETS:
            table["bc"].append(bc_at(steps, args.seed))
            table["ppo"].append(ppo_at(steps, args.seed))
            bar.update(steps=steps, bc=table["bc"][-1], ppo=table["ppo"][-1])
    expert = mean_return(_env(16, args.seed), expert_policy, 32, 10_000 + args.seed)
    summary = {"env_steps": list(BUDGETS), "returns": table, "expert_return": expert,
               "seed": args.seed}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(table, expert, str(outputs.path("bc_vs_rl.png")))
    for i, steps in enumerate(BUDGETS):
        print(f"{steps:6d} env steps: BC {table['bc'][i]:.2f}  PPO {table['ppo'][i]:.2f}")
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
