"""Parameter-shared PPO on a cooperative multi-agent env, and the multi-agent command line.

Parameter sharing (Gupta et al. 2017, https://arxiv.org/abs/1707.00496; Terry et
al. 2020, https://arxiv.org/abs/2005.13625): every agent acts with the same
network, from its own observation. Each agent is then one more row of a vector
env (`hubkit.rl.marl_envs.SharedAgentsVectorEnv`), and PPO trains the shared
network exactly as it trains a single-agent policy: hubkit's rollout buffer,
GAE and clipped loss (`hubkit.rl.ppo.update`) run unchanged on the rows.

    python -m hubkit.rl.multiagent spread --total-steps 300000     # cooperative
    python -m hubkit.rl.multiagent selfplay --generations 30        # tic-tac-toe

`spread` writes curve.png (team return against env steps, with a random team
for scale), metrics.jsonl, policy.pt and summary.json under --out; `selfplay`
writes winrate.png (win rate against a random and a heuristic player over
self-play generations) and the same files (see `hubkit.rl.selfplay`).

Shapes: N rows = copies * agents; obs (N, obs_dim); actions (N,).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import torch

from hubkit import runlog
from hubkit.rl import normalize, ppo
from hubkit.rl.marl_envs import CooperativeSpread, SharedAgentsVectorEnv

PROG = "python -m hubkit.rl.multiagent"


@dataclasses.dataclass
class SpreadConfig(ppo.PPOConfig):
    """Parameter-shared PPO on CooperativeSpread; num_envs counts copies of the game."""

    env_id: str = "hubkit-marl/cooperative_spread"
    """A label only: the env is built by `make_spread_envs`."""
    num_envs: int = 8
    """Copies of the game stepped side by side (rows = copies * agents)."""
    num_steps: int = 100
    """T steps per row per rollout (four 25-step episodes)."""
    total_steps: int = 300_000
    """Agent steps (rows * steps) to train for."""
    lr: float = 1e-3
    """Adam learning rate (annealed)."""
    ent_coef: float = 0.01
    """Weight of the entropy bonus."""
    agents: int = 3
    """N agents and N landmarks."""
    size: int = 6
    """Side of the grid."""
    eval_every: int = 0
    """onpolicy's single-agent evaluation does not apply; team returns are logged instead."""


def make_spread_envs(cfg: SpreadConfig):
    """cfg.num_envs copies of CooperativeSpread as one wrapped NEXT_STEP vector env."""
    fns = [lambda: CooperativeSpread(cfg.agents, cfg.size) for _ in range(cfg.num_envs)]
    return normalize.wrap(SharedAgentsVectorEnv(fns))


@torch.no_grad()
def team_returns(policy, cfg: SpreadConfig, episodes: int, seed: int,
                 deterministic: bool = True) -> np.ndarray:
    """(episodes,) team returns of `policy` (its mode, or samples), or of random actions if None."""
    rng, out = np.random.default_rng(seed), []
    for e in range(episodes):
        env = CooperativeSpread(cfg.agents, cfg.size)
        obs, _ = env.reset(seed=seed + e)
        total = 0.0
        while env.agents:
            x = torch.as_tensor(np.stack([obs[a] for a in env.agents]))  # (A, obs_dim)
            acts = (policy.act(x, deterministic)[0].numpy() if policy is not None
                    else rng.integers(0, 5, len(env.agents)))
            obs, rewards, _, _, _ = env.step(dict(zip(env.agents, acts.tolist(), strict=True)))
            total += next(iter(rewards.values()))
        out.append(total)
    return np.array(out)


def train_spread(cfg: SpreadConfig, progress=None, track=None):
    """Parameter-shared PPO on CooperativeSpread; returns onpolicy's TrainResult."""
    return ppo.train(cfg, envs=make_spread_envs(cfg), progress=progress, track=track)


def plot_spread(log: list[dict], random_return: float, trained_return: float, path) -> None:
    """Mean team return of the last 100 episodes against agent steps, random team dashed."""
    from hubkit.rl.plots import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot([r["step"] for r in log], [r["train_return"] for r in log],
            label="shared PPO, training episodes (last 100)")
    ax.axhline(random_return, ls="--", c="gray", label=f"random team ({random_return:.1f})")
    ax.axhline(trained_return, ls=":", c="C2", label=f"final, deterministic ({trained_return:.1f})")
    ax.set(xlabel="agent steps (all rows)", ylabel="team return per episode",
           title="Parameter-shared PPO on CooperativeSpread")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def spread(args) -> None:
    """`spread`: train, compare with a random team, write curve, policy, summary."""
    torch.set_num_threads(1)
    cfg = SpreadConfig(total_steps=args.total_steps, seed=args.seed, agents=args.agents)
    outputs = runlog.Outputs(args.out, "spread")
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        updates = max(1, cfg.total_steps // (cfg.num_steps * cfg.num_envs * cfg.agents))
        with runlog.Progress(updates, "update", enabled=not args.quiet) as bar:
            result = train_spread(cfg, progress=bar, track=track)
    random_r = float(team_returns(None, cfg, 100, cfg.seed + 10**6).mean())
    trained_r = float(team_returns(result.policy, cfg, 100, cfg.seed + 10**6).mean())
    torch.save({"config": dataclasses.asdict(cfg), "state_dict": result.policy.state_dict()},
               outputs.path("policy.pt"))
    plot_spread(result.log, random_r, trained_r, outputs.path("curve.png"))
    summary = {"env": cfg.env_id, "agents": cfg.agents, "size": cfg.size, "seed": cfg.seed,
               "agent_steps": result.steps, "seconds": round(result.seconds, 1),
               "team_return_trained_deterministic_100": trained_r,
               "team_return_random_100": random_r}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"team return over 100 episodes: trained {trained_r:.2f}, random {random_r:.2f}")
    outputs.report()


def build_parser():
    """`spread` and `selfplay` sub-commands, each with --out/--quiet/--log."""
    from hubkit.rl import selfplay

    p = runlog.parser(PROG, __doc__, "marl")
    sub = p.add_subparsers(dest="command", required=True)
    s = runlog.add_arguments(sub.add_parser("spread", help="shared PPO, cooperative"), "spread")
    s.add_argument("--total-steps", type=int, default=300_000, help="agent steps to train for")
    s.add_argument("--agents", type=int, default=3, help="agents (and landmarks)")
    s.add_argument("--seed", type=int, default=0, help="seeds torch, envs, minibatches")
    selfplay.add_arguments(runlog.add_arguments(
        sub.add_parser("selfplay", help="self-play PPO on a two-player game"), "selfplay"))
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "spread":
        spread(args)
    else:
        from hubkit.rl import selfplay

        selfplay.run_cli(args)


if __name__ == "__main__":
    runlog.run_main(main)
