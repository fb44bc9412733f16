"""Reward shaping on Reacher, empirically: PPO trained on sparse, dense and potential rewards.

The exact version of this experiment (`hubkit.envs.shaping`) proves on a
gridworld which shapings keep the optimal policy. Here the RL track's PPO
learns Reacher (hubkit's C++ env) from each reward, and every policy is
judged on the same thing, the fingertip's distance to the target at the end
of the episode (success: under `radius`):

* sparse: 1 while the fingertip is within `radius` of the target, else 0;
* dense: Gymnasium's own reward, -distance - |action|^2;
* potential: sparse + gamma * Phi(s') - Phi(s) with Phi = -weight * distance
  (Ng et al., 1999): the same optimal policy as sparse, with a gradient to follow.

Run: `python -m hubkit.envs.shaping_ppo --out runs/shaping-ppo` (the budget
is `--steps` env steps per reward).

Shapes: N envs; obs (N, 10); the last two entries are fingertip - target (x, y).
"""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np

REWARDS = ("sparse", "dense", "potential")


def fingertip_distance(obs: np.ndarray) -> np.ndarray:
    """Distance from fingertip to target in Reacher observations (N, 10) -> (N,)."""
    return np.linalg.norm(obs[:, -2:], axis=1)  # the last two entries: (fingertip - target) xy


class ReachReward(gym.vector.VectorWrapper):
    """Replace Reacher's reward with `kind` (one of REWARDS); NEXT_STEP reset steps pay 0.

    Args:
        env: hubkit's Reacher vector env (NEXT_STEP autoreset).
        kind: "sparse", "dense" or "potential".
        radius: the target's radius for the sparse reward (m).
        weight, gamma: Phi = -weight * distance; F = gamma * Phi(s') - Phi(s).
    """

    def __init__(self, env, kind: str, radius: float = 0.05, weight: float = 10.0,
                 gamma: float = 0.99):
        if kind not in REWARDS:
            raise ValueError(f"kind must be one of {REWARDS}, got {kind!r}")
        super().__init__(env)
        self.kind, self.radius, self.weight, self.gamma = kind, radius, weight, gamma

    def reset(self, **kwargs):
        obs, infos = self.env.reset(**kwargs)
        self.dist = fingertip_distance(obs)
        self.fresh = np.zeros(self.num_envs, dtype=bool)
        return obs, infos

    def step(self, actions):
        obs, rew, term, trunc, infos = self.env.step(actions)
        d = fingertip_distance(obs)
        if self.kind != "dense":
            sparse = (d < self.radius).astype(np.float64)
            shaping = self.weight * (self.dist - self.gamma * d)  # gamma Phi(s') - Phi(s)
            rew = sparse + shaping if self.kind == "potential" else sparse
            rew = np.where(self.fresh, 0.0, rew)  # the reset step is no transition
        self.dist, self.fresh = d, np.asarray(term) | np.asarray(trunc)
        return obs, rew, term, trunc, infos


def final_distances(policy, episodes: int = 32, seed: int = 1000) -> np.ndarray:
    """Fingertip-target distance at the end of one deterministic episode per env (episodes,)."""
    import torch

    from hubkit.envs.vector import MujocoVectorEnv

    env = MujocoVectorEnv("Reacher", episodes, seed=seed)
    obs, _ = env.reset(seed=seed)
    for _ in range(env.task_spec.max_episode_steps):
        action, _, _ = policy.act(torch.as_tensor(obs, dtype=torch.float32), deterministic=True)
        obs, *_ = env.step(np.clip(policy.env_action(action), -1, 1))
    return fingertip_distance(obs)


def train_one(kind: str, steps: int, seed: int = 0, progress=None):
    """PPO on Reacher with reward `kind`; returns the ActorCritic."""
    from hubkit.envs.vector import MujocoVectorEnv
    from hubkit.rl import normalize, ppo

    cfg = ppo.PPOConfig(env_id="hubkit/Reacher-v5", num_envs=8, num_steps=128,
                        total_steps=steps, lr=3e-4, norm_reward=True, eval_every=0,
                        eval_episodes=1, ent_coef=0.0, update_epochs=10, num_minibatches=8,
                        seed=seed)
    env = ReachReward(MujocoVectorEnv("Reacher", 8, seed=seed), kind, gamma=cfg.gamma)
    envs = normalize.wrap(env, norm_reward=True, gamma=cfg.gamma)
    return ppo.train(cfg, envs=envs, progress=progress).policy


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.shaping_ppo", __doc__, "shaping-ppo")
    p.add_argument("--steps", type=int, default=50_000, help="PPO env steps per reward")
    p.add_argument("--rewards", nargs="+", default=list(REWARDS), choices=REWARDS)
    p.add_argument("--seed", type=int, default=0)
    return p


def main(argv: list[str] | None = None) -> None:
    """Train PPO on each reward; write results.json and final_distance.png."""
    import torch

    from hubkit import runlog

    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    torch.set_num_threads(1)  # small MLPs: one thread is fastest on a shared CPU
    table = {}
    with runlog.tracker(args, outputs) as track:
        for kind in args.rewards:
            with runlog.Progress(args.steps // 1024, f"PPO {kind}", enabled=not args.quiet,
                                 tracker=track) as bar:
                d = final_distances(train_one(kind, args.steps, args.seed, progress=bar))
            table[kind] = {"mean_final_distance": float(d.mean()),
                           "success_rate": float((d < 0.05).mean()), "final_distances": d.tolist()}
            print(f"{kind}: final distance {d.mean():.4f}, success {(d < 0.05).mean():.0%}")
    summary = {"steps_per_reward": args.steps, "seed": args.seed, "radius": 0.05,
               "rewards": table}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(table, str(outputs.path("final_distance.png")))
    outputs.report()


def plot(table: dict, path: str) -> str:
    """Final distances per reward as a box plot (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.boxplot([r["final_distances"] for r in table.values()])
    ax.set_xticks(range(1, len(table) + 1), list(table))
    ax.axhline(0.05, color="k", ls="--", lw=1, label="success radius")
    ax.set_ylabel("final fingertip-target distance (m)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
