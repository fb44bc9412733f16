"""Behavioral cloning and DAgger: supervised learning of a policy from expert actions.

Behavioral cloning (BC) fits a policy to the expert's (observation, action)
pairs with a regression loss, nothing more. Its catch is distribution shift
(Ross & Bagnell, 2010): the learner is trained on states the expert visits,
but at test time it visits states produced by its own small mistakes, where it
was never trained, and those mistakes compound over the horizon: a per-step
error epsilon can cost O(epsilon T^2) return instead of O(epsilon T).

DAgger (Ross, Gordon & Bagnell, 2011, https://arxiv.org/abs/1011.0686) fixes
the training distribution instead of the loss: run the current learner, ask the
expert what it would have done in the states the learner actually reached, add
those labelled states to the data set (aggregate, never replace), retrain.
The expert is the labeler here, so labels cost nothing; with a human expert
they are the expensive part. The experts (`hubkit.imitation.tasks`): on
Reacher the reach controller of hubkit.envs.controllers (`expert_policy`, a
gain that trades precision for smaller torques, so it also scores well on
Reacher's reward, which charges for torque); on HalfCheetah the CEM-tuned
open-loop gait, whose phase is appended to the observation so that a policy
of the observation can copy it; on Hopper a PPO policy of the RL track.

`python -m hubkit.imitation.bc --out DIR [--env reacher|halfcheetah|hopper]`
runs both studies (default: hubkit/Reacher-v5) and writes their plots and
figures: BC's return against the number of demonstrations, the error
compounding over the horizon, and DAgger against BC at the same number of
expert labels.

Shapes: N envs, M samples, O observation size, A action size, T steps.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
from torch import nn

from hubkit.imitation.demos import Normalizer, Policy, rollout, transitions
from hubkit.imitation.tasks import (
    NAMES,
    Task,
    expert_policy,  # noqa: F401  (the Reacher expert, as before)
    make_task,
    reacher_task,
)
from hubkit.imitation.tasks import one_thread as _one_thread
from hubkit.imitation.tasks import reacher_env as _env  # noqa: F401  (bc_vs_rl's Reacher env)

REACHER = reacher_task()


class MLPPolicy(nn.Module):
    """A deterministic policy: normalized observation -> MLP -> action in [-1, 1].

    The normalizer's statistics are buffers, so they travel with the state_dict.
    """

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...] = (64, 64),
                 normalizer: Normalizer | None = None) -> None:
        super().__init__()
        norm = normalizer or Normalizer(np.zeros(obs_dim), np.ones(obs_dim))
        self.register_buffer("obs_mean", torch.as_tensor(norm.mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(norm.std, dtype=torch.float32))
        layers: list[nn.Module] = []
        width = obs_dim
        for h in hidden:
            layers += [nn.Linear(width, h), nn.Tanh()]
            width = h
        layers.append(nn.Linear(width, act_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        """(M, O) -> (M, A), unclipped (the loss sees the raw output)."""
        return self.net((obs - self.obs_mean) / self.obs_std)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The policy as the envs call it: (N, O) array -> (N, A) actions clipped to [-1, 1]."""
        with torch.no_grad():
            out = self(torch.as_tensor(obs, dtype=torch.float32))
        return out.clamp(-1.0, 1.0).numpy().astype(np.float64)


def bc_loss(policy: nn.Module, obs: torch.Tensor, actions: torch.Tensor) -> torch.Tensor:
    """Mean squared error between the policy's actions and the expert's, (scalar)."""
    return ((policy(obs) - actions) ** 2).sum(dim=1).mean()


@dataclass
class BCConfig:
    """Supervised training of an MLPPolicy (Adam, minibatches, a fixed number of epochs)."""

    hidden: tuple[int, ...] = (64, 64)
    steps: int = 1500  # gradient steps, whatever the data size
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0


def fit_policy(obs: np.ndarray, actions: np.ndarray, cfg: BCConfig) -> MLPPolicy:
    """Train a fresh MLPPolicy on (M, O) observations and (M, A) expert actions."""
    # subtle: a 64-wide MLP on batches of 256 is too small to split across threads; two
    # OpenMP threads only add synchronization (and on a busy machine, 20x slower spinning).
    with _one_thread():
        return _fit(obs, actions, cfg)


def _fit(obs: np.ndarray, actions: np.ndarray, cfg: BCConfig) -> MLPPolicy:
    torch.manual_seed(cfg.seed)
    policy = MLPPolicy(obs.shape[1], actions.shape[1], cfg.hidden, Normalizer.fit(obs))
    x = torch.as_tensor(obs, dtype=torch.float32)
    y = torch.as_tensor(actions, dtype=torch.float32)
    opt = torch.optim.Adam(policy.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    for _ in range(cfg.steps):
        idx = torch.randint(len(x), (min(cfg.batch_size, len(x)),), generator=gen)
        loss = bc_loss(policy, x[idx], y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return policy


def mean_return(env, policy: Policy, episodes: int, seed: int) -> float:
    """Average undiscounted return of `policy` over `episodes` episodes of a vector env."""
    return float(np.mean([ep.total_reward for ep in rollout(env, policy, episodes, seed)]))


def deviation_over_time(env, expert: Policy, learner: Policy, seed: int, steps: int) -> np.ndarray:
    """Mean distance (T,) between the learner's and the expert's observations at each step,
    both started from the same reset states (same seed): how errors compound."""
    def trajectory(policy: Policy) -> np.ndarray:
        obs, _ = env.reset(seed=seed)
        seen = []
        for _ in range(steps):
            obs, *_ = env.step(policy(obs))
            seen.append(obs.copy())
        return np.stack(seen)  # (T, N, O)

    return np.linalg.norm(trajectory(learner) - trajectory(expert), axis=2).mean(axis=1)


@dataclass
class DAggerConfig:
    """DAgger: start from BC on `initial_episodes`, then `iterations` rounds of
    `episodes_per_iteration` learner rollouts labelled by the expert."""

    initial_episodes: int = 2
    iterations: int = 8
    episodes_per_iteration: int = 2
    bc: BCConfig = field(default_factory=BCConfig)


def dagger(env, expert: Policy, cfg: DAggerConfig, seed: int = 0,
           on_iteration=None) -> tuple[MLPPolicy, list[int]]:
    """Run DAgger; returns the final policy and the data-set size after each iteration.

    Iteration i rolls out the current learner, relabels every state it visited
    with `expert`, appends the pairs to the data set and retrains from scratch.
    `on_iteration(i, policy, size)`, if given, is called after BC (i = 0) and
    after every iteration.
    """
    obs, actions = transitions(rollout(env, expert, cfg.initial_episodes, seed))
    policy = fit_policy(obs, actions, cfg.bc)
    sizes = [len(obs)]
    if on_iteration is not None:
        on_iteration(0, policy, len(obs))
    for i in range(1, cfg.iterations + 1):
        new = rollout(env, policy.act, cfg.episodes_per_iteration, seed + 1000 + i,
                      labeler=expert)
        obs, actions = dagger_aggregate(obs, actions, *transitions(new))
        policy = fit_policy(obs, actions, cfg.bc)
        sizes.append(len(obs))
        if on_iteration is not None:
            on_iteration(i, policy, len(obs))
    return policy, sizes


def dagger_aggregate(obs: np.ndarray, actions: np.ndarray, new_obs: np.ndarray,
                     new_actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """D <- D U D_new: the old data stay, the learner's relabelled states are added."""
    return np.concatenate([obs, new_obs]), np.concatenate([actions, new_actions])


# ------------------------------------------------------------------ the studies

@dataclass
class StudyConfig:
    """The studies: BC against demonstrations, and DAgger against BC."""

    demo_counts: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    eval_episodes: int = 64
    seeds: int = 3
    num_envs: int = 16
    bc: BCConfig = field(default_factory=BCConfig)
    dagger: DAggerConfig = field(default_factory=DAggerConfig)


def bc_vs_demos(cfg: StudyConfig, progress=None, task: Task = REACHER) -> dict[int, list[float]]:
    """BC's evaluation return for each number of expert episodes, one value per seed."""
    out: dict[int, list[float]] = {}
    for n in cfg.demo_counts:
        out[n] = []
        for seed in range(cfg.seeds):
            env = task.make_env(cfg.num_envs, seed)
            demos = rollout(env, task.expert, n, seed)
            policy = fit_policy(*transitions(demos), replace(cfg.bc, seed=seed))
            out[n].append(mean_return(env, policy.act, cfg.eval_episodes, 10_000 + seed))
            if progress is not None:
                progress.update(demos=n, bc_return=out[n][-1])
    return out


def dagger_vs_bc(cfg: StudyConfig, progress=None,
                 task: Task = REACHER) -> dict[str, list[list[float]]]:
    """Return against expert labels for DAgger's iterations and for BC with as many labels.

    Both curves are indexed by the same label budgets (DAgger's data-set sizes);
    BC gets that many labels from the expert's own episodes instead.
    """
    curves: dict[str, list[list[float]]] = {"labels": [], "dagger": [], "bc": []}
    for seed in range(cfg.seeds):
        for key, values in zip(curves, _dagger_curve(cfg, seed, progress, task), strict=True):
            curves[key].append(values)
    return curves


def expert_labels(env, expert: Policy, size: int, seed: int,
                  episodes: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The first `size` (observation, action) pairs of the expert's episodes: (size, O), (size, A).

    Rolls out `episodes` episodes, doubling them until there are enough pairs.
    """
    # subtle: episodes end in the same order whatever their number (same seed), so the
    # first pairs never depend on `episodes`; with fixed-length episodes (Reacher) a
    # multiple of the length is exactly that many whole episodes.
    while True:
        obs, actions = transitions(rollout(env, expert, episodes, seed))
        if len(obs) >= size:
            return obs[:size], actions[:size]
        episodes *= 2


def _dagger_curve(cfg: StudyConfig, seed: int, progress, task: Task) -> tuple[list, list, list]:
    """One seed of `dagger_vs_bc`: label counts, DAgger returns, BC returns."""
    d = replace(cfg.dagger, bc=replace(cfg.dagger.bc, seed=seed))
    env = task.make_env(cfg.num_envs, seed)
    labels: list[int] = []
    dag: list[float] = []
    bc: list[float] = []

    def evaluate(i: int, policy: MLPPolicy, size: int) -> None:
        labels.append(size)
        dag.append(mean_return(env, policy.act, cfg.eval_episodes, 20_000 + seed))
        episodes = d.initial_episodes + i * d.episodes_per_iteration
        clone = fit_policy(*expert_labels(env, task.expert, size, seed, episodes),
                           replace(cfg.bc, seed=seed))
        bc.append(mean_return(env, clone.act, cfg.eval_episodes, 20_000 + seed))
        if progress is not None:
            progress.update(labels=size, dagger=dag[-1], bc=bc[-1])

    dagger(env, task.expert, d, seed, on_iteration=evaluate)
    return labels, dag, bc


def _plot(path, draw) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    draw(ax)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _band(ax, x, runs: np.ndarray, label: str) -> None:
    mean, std = runs.mean(axis=0), runs.std(axis=0)
    ax.plot(x, mean, marker="o", label=label)
    ax.fill_between(x, mean - std, mean + std, alpha=0.2)


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.imitation.bc", __doc__, "imitation")
    p.add_argument("--env", choices=NAMES, default="reacher",
                   help="task and expert: reacher (reach controller), halfcheetah (CEM gait, "
                        "phase as input), hopper (PPO policy)")
    p.add_argument("--expert", default=None,
                   help="hopper: a PPO policy.pt (default: the committed "
                        "rl-ppo-hopper run); halfcheetah: a JSON list of gait parameters "
                        "(default: tune one with CEM first)")
    p.add_argument("--cem-iterations", type=int, default=20,
                   help="halfcheetah without --expert: CEM iterations for the gait")
    p.add_argument("--seeds", type=int, default=StudyConfig.seeds)
    p.add_argument("--demos", default="1,2,4,8,16,32",
                   help="comma-separated numbers of expert episodes for the BC study")
    p.add_argument("--dagger-iterations", type=int, default=DAggerConfig.iterations)
    p.add_argument("--eval-episodes", type=int, default=StudyConfig.eval_episodes)
    p.add_argument("--num-envs", type=int, default=StudyConfig.num_envs,
                   help="envs stepped together in every rollout")
    p.add_argument("--bc-steps", type=int, default=BCConfig.steps,
                   help="gradient steps per policy fit")
    return p


def main(argv: list[str] | None = None) -> None:
    """Run the BC and DAgger studies on one task and write their plots and numbers."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    bc = BCConfig(steps=args.bc_steps)
    cfg = StudyConfig(demo_counts=tuple(int(n) for n in args.demos.split(",")),
                      eval_episodes=args.eval_episodes, seeds=args.seeds, bc=bc,
                      num_envs=args.num_envs,
                      dagger=DAggerConfig(iterations=args.dagger_iterations, bc=bc))
    outputs = runlog.Outputs(args.out, args._run_name)
    total = len(cfg.demo_counts) * cfg.seeds + (cfg.dagger.iterations + 1) * cfg.seeds
    # _one_thread: the experts' and the learners' small MLPs, as in fit_policy
    with _one_thread(), runlog.tracker(args, outputs) as track, \
            runlog.Progress(total, "policy trained", enabled=not args.quiet, tracker=track) as bar:
        task = make_task(args.env, args.expert, args.cem_iterations)
        study = run_studies(cfg, task, bar)
    write_results(outputs, cfg, task, **study)
    outputs.report()


def run_studies(cfg: StudyConfig, task: Task, progress=None) -> dict:
    """Expert and random returns, BC against demonstrations, DAgger against BC, and the
    compounding error of BC from the fewest and the most demonstrations."""
    env = task.make_env(cfg.num_envs, 0)
    expert = mean_return(env, task.expert, cfg.eval_episodes, 10_000)
    rng = np.random.default_rng(0)
    act_dim = env.single_action_space.shape[0]
    random = mean_return(env, lambda o: rng.uniform(-1, 1, (len(o), act_dim)),
                         cfg.eval_episodes, 10_000)
    by_demos = bc_vs_demos(cfg, progress, task)
    curves = dagger_vs_bc(cfg, progress, task)
    blind = bc_without_phase(cfg, task) if task.phase_features else None
    drift_env = task.make_env(cfg.num_envs, 0, **task.drift_overrides)
    drift = {}
    for n in (cfg.demo_counts[0], cfg.demo_counts[-1]):
        clone = fit_policy(*transitions(rollout(env, task.expert, n, 0)), cfg.bc)
        drift[n] = deviation_over_time(drift_env, task.expert, clone.act, 30_000,
                                       task.drift_steps)
    return {"expert": expert, "random": random, "by_demos": by_demos, "curves": curves,
            "drift": drift, "blind": blind}


def bc_without_phase(cfg: StudyConfig, task: Task) -> list[float]:
    """BC from the most demonstrations with the phase features removed, one return per seed:
    what cloning an open-loop expert from the observation alone gets (on HalfCheetah,
    nearly as much: the gait settles into a cycle whose phase the joints reveal)."""
    k = task.phase_features
    out = []
    for seed in range(cfg.seeds):
        env = task.make_env(cfg.num_envs, seed)
        obs, actions = transitions(rollout(env, task.expert, cfg.demo_counts[-1], seed))
        policy = fit_policy(obs[:, :-k], actions, replace(cfg.bc, seed=seed))
        out.append(mean_return(env, lambda o, p=policy: p.act(o[:, :-k]), cfg.eval_episodes,
                               10_000 + seed))
    return out


def write_results(outputs, cfg: StudyConfig, task: Task, expert: float, random: float,
                  by_demos: dict[int, list[float]], curves: dict, drift: dict,
                  blind: list[float] | None = None) -> None:
    """The three PNGs and results.json."""
    counts = list(by_demos)

    def demos_plot(ax):
        _band(ax, counts, np.array([by_demos[n] for n in counts]).T, "behavioral cloning")
        ax.axhline(expert, color="k", ls="--", label=f"expert {expert:.1f}")
        ax.axhline(random, color="r", ls=":", label=f"random {random:.1f}")
        if blind is not None:
            ax.axhline(np.mean(blind), color="m", ls="-.",
                       label=f"BC from {counts[-1]}, no phase input {np.mean(blind):.1f}")
        ax.set_xscale("log", base=2)
        ax.set(xlabel=f"expert episodes ({_episode_length(task)})", ylabel="return",
               title=f"{task.name}: BC return vs demonstrations")

    def drift_plot(ax):
        for n, dev in drift.items():
            ax.plot(np.arange(1, len(dev) + 1), dev, label=f"BC from {n} episode(s)")
        ax.set(xlabel="step", ylabel="|obs_learner - obs_expert|",
               title=f"{task.name}: errors compound, distance from the expert's path")

    labels = np.array(curves["labels"][0])

    def dagger_plot(ax):
        _band(ax, labels, np.array(curves["dagger"]), "DAgger")
        _band(ax, labels, np.array(curves["bc"]), "BC, same number of expert labels")
        ax.axhline(expert, color="k", ls="--", label="expert")
        ax.set(xlabel="expert-labelled samples", ylabel="return",
               title=f"DAgger vs BC on {task.name}")

    for name, draw in (("bc-vs-demos.png", demos_plot), ("compounding-error.png", drift_plot),
                       ("dagger-vs-bc.png", dagger_plot)):
        _plot(outputs.path(name), draw)
    results = {"env": task.name, "expert": task.expert_name, "config": asdict(cfg),
               "expert_return": expert, "random_return": random,
               "bc_return_by_demos": {str(n): v for n, v in by_demos.items()},
               "dagger": curves, "deviation": {str(n): d.tolist() for n, d in drift.items()}}
    if blind is not None:
        results["bc_return_without_phase"] = blind
    outputs.path("results.json").write_text(json.dumps(results, indent=2) + "\n")
    if hasattr(task.expert, "params"):  # the gait: --expert gait.json replays it
        outputs.path("gait.json").write_text(json.dumps(task.expert.params.tolist()) + "\n")
    print(f"{task.name}: expert {expert:.2f} ({task.expert_name}), random {random:.2f}")
    for n, v in by_demos.items():
        print(f"BC from {n:>3} episode(s): return {np.mean(v):7.2f} +- {np.std(v):.2f}")
    if blind is not None:
        print(f"BC from {counts[-1]:>3} episode(s) without the phase input: "
              f"return {np.mean(blind):7.2f} +- {np.std(blind):.2f}")
    dag, bc = np.mean(curves["dagger"], axis=0), np.mean(curves["bc"], axis=0)
    for size, a, b in zip(labels, dag, bc, strict=True):
        print(f"{size:>5} labels: DAgger {a:7.2f}   BC {b:7.2f}")



def _episode_length(task: Task) -> str:
    spec = task.make_env(1, 0).unwrapped.task_spec
    limit = f"{spec.max_episode_steps} steps each"
    return f"up to {limit}" if spec.terminate_when_unhealthy else limit


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
