"""Randomization strategies compared: PPO trained with none, uniform or curriculum randomization.

Each policy is trained by the RL track's PPO (`hubkit.rl.ppo`) on hubkit's C++
vector env under one strategy, then evaluated at growing perturbation sizes s,
one perturbation kind at a time (mass, friction, damping, actuator gain,
action delay, observation noise) and all together: its robustness curves.

* none: the nominal robot only;
* uniform: every episode draws from the full ranges (size `--size`);
* curriculum: the size grows linearly from 0 to `--size` over the first half
  of training (Mehta et al., 2019, https://arxiv.org/abs/1904.04762 adapt it;
  a fixed ramp is the simplest schedule);
* adaptive: uniform, but the policy sees its last `--history` observations,
  so it can infer the dynamics it is in (Yu et al., 2017,
  https://arxiv.org/abs/1702.02453 condition on identified parameters;
  a history is the implicit version).

Run: `python -m hubkit.envs.sim2real_ppo --out runs/sim2real` (writes
results.json and robustness.png; see `--steps` for the budget).

Shapes: N envs, K history; obs (N, K * obs_dim).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import gymnasium as gym
import numpy as np

from hubkit.envs.dynamics import DynamicsRanges
from hubkit.envs.randomization import DomainRandomization
from hubkit.envs.sim2real import Perturbations, Perturbed
from hubkit.envs.vector import MujocoVectorEnv

KINDS = ("all", "mass", "friction", "damping", "gain", "delay", "noise")
STRATEGIES = ("none", "uniform", "curriculum", "adaptive")


def ranges_for(kind: str, size: float, max_delay: int = 2,
               noise: float = 0.05) -> tuple[DynamicsRanges, Perturbations]:
    """Ranges of size s for one perturbation kind (or "all"); the others stay nominal."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")

    def r(name):
        return (1.0 - size, 1.0 + size) if kind in ("all", name) else (1.0, 1.0)

    dyn = DynamicsRanges(mass=r("mass"), friction=r("friction"), damping=r("damping"))
    delay = round(size * max_delay) if kind in ("all", "delay") else 0
    pert = Perturbations(gain=r("gain"), delay=(0, delay),
                         obs_noise=size * noise if kind in ("all", "noise") else 0.0)
    return dyn, pert


class RandomizedVectorEnv(gym.vector.VectorEnv):
    """hubkit's C++ env with physics and interface randomization, as a Gymnasium vector env.

    Args:
        task: task name; num_envs: N.
        size: perturbation size s (ranges [1 - s, 1 + s], see `ranges_for`).
        kind: which perturbation ("all" or one of KINDS).
        ramp_steps: curriculum: the size grows linearly from 0 over this many env steps
            (0: the full size from the start).
        history: K; observations are the last K stacked, newest last (1: plain).
        seed, num_threads: of the draws and the C++ env.
    """

    def __init__(self, task: str = "Reacher", num_envs: int = 8, size: float = 0.0,
                 kind: str = "all", ramp_steps: int = 0, history: int = 1,
                 seed: int | None = None, num_threads: int = 1):
        if history < 1:
            raise ValueError(f"history must be >= 1, got {history}")
        base = MujocoVectorEnv(task, num_envs, num_threads=num_threads, seed=seed)
        dyn, pert = ranges_for(kind, size)
        self.dr = DomainRandomization(base, dyn, seed=seed)
        self.dr.action_dim = base.single_action_space.shape[0]
        self.inner = Perturbed(self.dr, pert, seed=seed)
        self.size, self.kind, self.ramp_steps, self.history = size, kind, ramp_steps, history
        self.num_envs, self.steps = num_envs, 0
        dim = base.single_observation_space.shape[0] * history
        self.single_observation_space = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float64)
        self.single_action_space = base.single_action_space
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                               num_envs)
        self.action_space = base.action_space
        self.metadata = base.metadata
        self.restart = np.zeros(num_envs, dtype=bool)

    def current_size(self) -> float:
        """The size in force now (grows during a curriculum)."""
        if not self.ramp_steps:
            return self.size
        return self.size * min(1.0, self.steps / self.ramp_steps)

    def _apply_size(self) -> None:
        if self.ramp_steps:
            self.dr.sampler.ranges, self.inner.p = ranges_for(self.kind, self.current_size())

    def _stacked(self, obs: np.ndarray, fresh: np.ndarray) -> np.ndarray:
        self.hist[fresh] = obs[fresh, None]  # a new episode's history is its first obs
        self.hist[~fresh] = np.concatenate([self.hist[~fresh, 1:], obs[~fresh, None]], 1)
        return self.hist.reshape(self.num_envs, -1).copy()  # (N, K * obs_dim)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self._apply_size()
        obs, infos = self.inner.reset(seed=seed)
        self.hist = np.repeat(obs[:, None], self.history, 1)  # (N, K, obs_dim)
        self.restart[:] = False
        return self._stacked(obs, np.ones(self.num_envs, dtype=bool)), infos

    def step(self, actions):
        self.steps += self.num_envs
        self._apply_size()
        obs, rew, term, trunc, infos = self.inner.step(actions)
        stacked = self._stacked(obs, self.restart)
        self.restart = np.asarray(term) | np.asarray(trunc)
        return stacked, rew, term, trunc, infos


def episode_return(policy, env: RandomizedVectorEnv, seed: int) -> float:
    """Mean return of the deterministic policy over one time-limited episode per env."""
    import torch

    obs, _ = env.reset(seed=seed)
    total = np.zeros(env.num_envs)
    for _ in range(env.dr.env.task_spec.max_episode_steps):
        action, _, _ = policy.act(torch.as_tensor(obs, dtype=torch.float32), deterministic=True)
        obs, rew, *_ = env.step(policy.env_action(action))
        total += rew
    return float(total.mean())


@dataclass
class Sim2RealConfig:
    """The comparison's budget (defaults fit a few minutes of a shared 2-core CPU)."""

    task: str = "Reacher"
    steps: int = 100_000
    """PPO env steps per strategy."""
    size: float = 0.5
    """Training size of uniform, curriculum and adaptive."""
    history: int = 4
    """K observations the adaptive policy sees."""
    eval_sizes: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 0.9)
    eval_envs: int = 16
    seed: int = 0


def train_one(strategy: str, cfg: Sim2RealConfig, progress=None):
    """PPO under one strategy; returns the ActorCritic."""
    from hubkit.rl import normalize, ppo

    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    size = 0.0 if strategy == "none" else cfg.size
    env = RandomizedVectorEnv(cfg.task, 8, size=size, seed=cfg.seed,
                              ramp_steps=cfg.steps // 2 if strategy == "curriculum" else 0,
                              history=cfg.history if strategy == "adaptive" else 1)
    pcfg = ppo.PPOConfig(env_id=f"hubkit/{cfg.task}-v5", num_envs=8, num_steps=128,
                         total_steps=cfg.steps, lr=3e-4, norm_reward=True, eval_every=0,
                         eval_episodes=1, ent_coef=0.0, update_epochs=10,
                         num_minibatches=8, seed=cfg.seed)
    envs = normalize.wrap(env, norm_reward=True, gamma=pcfg.gamma)
    return ppo.train(pcfg, envs=envs, progress=progress).policy


def robustness(policy, history: int, cfg: Sim2RealConfig) -> dict[str, list[float]]:
    """Return at each eval size, per perturbation kind."""
    return {kind: [episode_return(policy, RandomizedVectorEnv(
        cfg.task, cfg.eval_envs, size=s, kind=kind, history=history, seed=cfg.seed + 1000), 0)
        for s in cfg.eval_sizes] for kind in KINDS}


def plot(curves: dict, sizes, path: str) -> str:
    """One panel per perturbation kind, one line per strategy (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(KINDS), figsize=(3 * len(KINDS), 3), sharey=True)
    for ax, kind in zip(axes, KINDS, strict=True):
        for strategy, by_kind in curves.items():
            ax.plot(sizes, by_kind[kind], marker="o", label=strategy)
        ax.set_title(kind)
        ax.set_xlabel("size s")
    axes[0].set_ylabel("episode return")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.sim2real_ppo", __doc__, "sim2real")
    p.add_argument("--task", default=Sim2RealConfig.task)
    p.add_argument("--steps", type=int, default=Sim2RealConfig.steps,
                   help="PPO env steps per strategy")
    p.add_argument("--size", type=float, default=Sim2RealConfig.size)
    p.add_argument("--history", type=int, default=Sim2RealConfig.history)
    p.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=STRATEGIES)
    p.add_argument("--seed", type=int, default=Sim2RealConfig.seed)
    return p


def main(argv: list[str] | None = None) -> None:
    """Train each strategy, evaluate its robustness curves, write results.json and the plot."""
    import torch

    from hubkit import runlog

    args = build_parser().parse_args(argv)
    cfg = Sim2RealConfig(args.task, args.steps, args.size, args.history, seed=args.seed)
    outputs = runlog.Outputs(args.out, args._run_name)
    torch.set_num_threads(1)  # small MLPs: one thread is fastest on a shared CPU
    curves = {}
    with runlog.tracker(args, outputs) as track:
        for strategy in args.strategies:
            with runlog.Progress(cfg.steps // 1024, f"PPO {strategy}", enabled=not args.quiet,
                                 tracker=track) as bar:
                policy = train_one(strategy, cfg, progress=bar)
            history = cfg.history if strategy == "adaptive" else 1
            curves[strategy] = robustness(policy, history, cfg)
            print(f"{strategy}: all-perturbation returns {np.round(curves[strategy]['all'], 2)}")
    summary = {"config": asdict(cfg), "strategies": args.strategies, "curves": curves,
               "mean_over_sizes": {s: {k: float(np.mean(v)) for k, v in c.items()}
                                   for s, c in curves.items()}}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(curves, cfg.eval_sizes, str(outputs.path("robustness.png")))
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
