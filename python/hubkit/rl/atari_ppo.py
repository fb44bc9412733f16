"""PPO on Atari games through ale-py, with the standard DQN-era wrappers.

The envs are `hubkit.rl.atari.make_atari_env` (no-op reset, 4-frame skip with max
pooling, episodic life, fire on reset, 84x84 grayscale, clipped rewards, 4 stacked
frames), N of them in a Gymnasium `SyncVectorEnv` with NEXT_STEP autoreset. The
policy is the Nature CNN trunk with a policy and a value head (`atari_policy`), a
policy factory for hubkit's on-policy loop; PPO itself (`hubkit.rl.ppo`) is
unchanged. The hyperparameters are CleanRL's ppo_atari.py (Huang et al. 2022,
https://iclr-blog-track.github.io/2022/03/25/ppo-implementation-details/).

    python -m hubkit.rl.atari_ppo --env ALE/Breakout-v5 --total-steps 10000000 --out runs/b
    python -m hubkit.rl.atari --env ALE/Pong-v5 --steps 2000000 --out runs/pong   # DQN

What to expect: CleanRL reports Breakout ~400 and Pong ~20 (game score) after 10M
frames of PPO; on a 2-core CPU the CNN runs at a few hundred env steps per second,
so that is a day, not minutes. The curve plots the training return of the last 100
*lives* in clipped reward units (EpisodicLife ends a learning episode at each lost
life; for Pong, which has no lives, that is the game's score).

Needs ale-py (which ships the ROMs): `pip install ale-py`.

Shapes: N envs, obs (N, 4, 84, 84) uint8 (stored as float32 in the rollout), A actions.
"""

from __future__ import annotations

import dataclasses
import json

import torch
from torch import nn

from hubkit import runlog
from hubkit.rl import normalize, ppo
from hubkit.rl.atari import NatureCNN, make_atari_env
from hubkit.rl.policies import ActorCritic, Categorical, layer

PROG = "python -m hubkit.rl.atari_ppo"


@dataclasses.dataclass
class AtariPPOConfig(ppo.PPOConfig):
    """CleanRL's ppo_atari.py settings."""

    env_id: str = "ALE/Breakout-v5"
    """An ALE id."""
    num_envs: int = 8
    """N games side by side."""
    num_steps: int = 128
    """T steps per env per rollout."""
    total_steps: int = 10_000_000
    """Env steps (agent decisions, 4 frames each) to train for."""
    lr: float = 2.5e-4
    """Adam learning rate, annealed to 0."""
    clip_coef: float = 0.1
    """Ratio clip."""
    eval_every: int = 0
    """onpolicy's evaluation builds raw envs from the id; the training curve is used instead."""


def atari_policy(obs_space, act_space) -> ActorCritic:
    """Nature CNN trunk shared by a policy head (gain 0.01) and a value head (gain 1)."""
    trunk = NatureCNN(512, obs_space.shape[0]).net[:-1]  # conv stack + Linear(3136, 512), ReLU
    trunk = _Scaled(trunk)
    # subtle: the one trunk sits in both Sequentials; parameters() lists it once, so the
    # optimizer sees it once, and both losses train it (the trunk runs twice per batch).
    actor = nn.Sequential(trunk, layer(512, int(act_space.n), 0.01))
    critic = nn.Sequential(trunk, layer(512, 1, 1.0))
    return ActorCritic(actor, Categorical(), critic)


class _Scaled(nn.Module):
    """frames (B, 4, 84, 84) in [0, 255] -> trunk(frames / 255)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        return self.net(obs / 255.0)


def make_atari_envs(env_id: str, num_envs: int):
    """N wrapped Atari games in a NEXT_STEP SyncVectorEnv, with episode statistics."""
    import gymnasium as gym

    fns = [lambda: make_atari_env(env_id) for _ in range(num_envs)]
    return normalize.wrap(gym.vector.SyncVectorEnv(fns))


def train(cfg: AtariPPOConfig | None = None, **kwargs):
    """PPO with the CNN policy on cfg.env_id; kwargs (progress, track) go to onpolicy.run."""
    cfg = cfg or AtariPPOConfig()
    return ppo.train(cfg, envs=make_atari_envs(cfg.env_id, cfg.num_envs),
                     policy_factory=atari_policy, **kwargs)


def run_ppo(args, outputs) -> dict:
    """Train, then write policy.pt and curve.png; returns the summary's numbers."""
    from hubkit.rl.train import plot_curve

    cfg = AtariPPOConfig(env_id=args.env, total_steps=args.total_steps, seed=args.seed,
                         num_envs=args.num_envs, max_seconds=args.max_seconds)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg))
        updates = max(1, cfg.total_steps // (cfg.num_steps * cfg.num_envs))
        with runlog.Progress(updates, "update", enabled=not args.quiet) as bar:
            result = train(cfg, progress=bar, track=track)
    torch.save({"config": dataclasses.asdict(cfg), "state_dict": result.policy.state_dict()},
               outputs.path("policy.pt"))
    plot_curve(result.log, outputs.path("curve.png"), f"PPO on {cfg.env_id}")
    last = result.episode_returns[-100:]
    return {"steps": result.steps, "seconds": round(result.seconds, 1),
            "lives_finished": len(result.episode_returns),
            "train_return_last100_lives": sum(last) / len(last) if last else None}


def build_parser():
    p = runlog.parser(PROG, __doc__, "atari-ppo")
    p.add_argument("--env", default="ALE/Breakout-v5", help="ALE id (default: %(default)s)")
    p.add_argument("--total-steps", type=int, default=10_000_000, help="env steps")
    p.add_argument("--seed", type=int, default=0, help="seeds torch, games, minibatches")
    p.add_argument("--num-envs", type=int, default=8, help="games side by side")
    p.add_argument("--max-seconds", type=float, default=0.0,
                   help="stop after the update that passes this wall-clock time (0: none)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    torch.set_num_threads(1)
    outputs = runlog.Outputs(args.out, "atari-ppo")
    info = run_ppo(args, outputs)
    summary = {"algo": "ppo", "env": args.env, "seed": args.seed, **info}
    outputs.path("summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(f"ppo on {args.env}: {info['steps']} steps in {info['seconds']:.0f} s")
    outputs.report()


if __name__ == "__main__":
    runlog.run_main(main)
