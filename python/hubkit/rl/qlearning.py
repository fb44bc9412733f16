"""Tabular Q-learning with epsilon-greedy exploration, and a study of exploration.

Q-learning (Watkins 1989; Sutton & Barto ch. 6.5) learns optimal action values
from experience alone, with no model of the environment:

    Q[s, a] <- Q[s, a] + lr * (r + gamma * max_a' Q[s', a'] - Q[s, a])

(no bootstrap term when s' is terminal). Epsilon-greedy acts at random with
probability eps and greedily otherwise: too little exploration locks in the
first path that ever paid, too much wastes episodes. `exploration_study`
measures that trade-off on FrozenLake and plots it.

Shape legend: S states, A actions; Q is (S, A).

Example:
    >>> Q = np.zeros((2, 2))
    >>> q_update(Q, 0, 1, 1.0, 1, True, lr=0.5, gamma=0.9)  # the TD error
    1.0
    >>> float(Q[0, 1])
    0.5
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class QLearningConfig:
    """Tabular Q-learning on a gymnasium toy-text env; defaults suit FrozenLake 4x4."""

    env_id: str = "FrozenLake-v1"
    """gymnasium id with Discrete observation and action spaces."""
    is_slippery: bool = True
    """FrozenLake's slippery ice (the intended action happens 1/3 of the time)."""
    episodes: int = 8_000
    """Training episodes."""
    lr: float = 0.1
    """Step size of each Q update."""
    gamma: float = 0.99
    """Discount factor."""
    eps_start: float = 1.0
    """Initial exploration rate."""
    eps_end: float = 0.05
    """Final exploration rate."""
    eps_decay_fraction: float = 0.5
    """Fraction of the episodes over which eps falls linearly from eps_start to eps_end."""
    seed: int = 0
    """Seeds the env and the exploration RNG."""


def make_env(cfg: QLearningConfig):
    """The gymnasium env of cfg (gymnasium is imported here, not at module import)."""
    import gymnasium as gym

    kwargs = {"is_slippery": cfg.is_slippery} if cfg.env_id.startswith("FrozenLake") else {}
    return gym.make(cfg.env_id, **kwargs)


def epsilon_greedy(q_row: np.ndarray, eps: float, rng: np.random.Generator) -> int:
    """A random action with probability eps, else a greedy one (ties broken at random)."""
    if rng.random() < eps:
        return int(rng.integers(len(q_row)))
    best = np.flatnonzero(q_row == q_row.max())
    # subtle: with Q initialised to zeros, always taking the first maximum would make
    # an eps = 0 agent walk into the same wall forever.
    return int(best[rng.integers(len(best))])


def q_update(Q: np.ndarray, s: int, a: int, r: float, s_next: int, terminated: bool,
             lr: float, gamma: float) -> float:
    """One Q-learning update of Q[s, a] in place; returns the TD error."""
    target = r if terminated else r + gamma * Q[s_next].max()
    td = target - Q[s, a]
    Q[s, a] += lr * td
    return float(td)


def epsilon_at(cfg: QLearningConfig, episode: int) -> float:
    """Linear decay from eps_start to eps_end over eps_decay_fraction of the episodes."""
    frac = min(1.0, episode / max(1.0, cfg.eps_decay_fraction * cfg.episodes))
    return cfg.eps_start + frac * (cfg.eps_end - cfg.eps_start)


def run_episode(env, Q: np.ndarray, eps: float, rng: np.random.Generator, cfg: QLearningConfig,
                learn: bool = True, seed: int | None = None) -> float:
    """Play one episode with epsilon-greedy actions, updating Q if learn; return its return."""
    s, _ = env.reset(seed=seed)
    total, done = 0.0, False
    while not done:
        a = epsilon_greedy(Q[s], eps, rng)
        s_next, r, terminated, truncated, _ = env.step(a)
        if learn:
            q_update(Q, s, a, float(r), s_next, terminated, cfg.lr, cfg.gamma)
        total += float(r)
        s, done = s_next, terminated or truncated
    return total


def train(cfg: QLearningConfig | None = None, eps_schedule=None) -> tuple[np.ndarray, np.ndarray]:
    """Q-learning for cfg.episodes episodes.

    Args:
        cfg: the run's settings.
        eps_schedule: episode -> eps; default epsilon_at(cfg, episode).

    Returns:
        Q (S, A) and the return of every training episode (episodes,).
    """
    cfg = cfg or QLearningConfig()
    env = make_env(cfg)
    rng = np.random.default_rng(cfg.seed)
    Q = np.zeros((env.observation_space.n, env.action_space.n))
    returns = np.zeros(cfg.episodes)
    for ep in range(cfg.episodes):
        eps = eps_schedule(ep) if eps_schedule else epsilon_at(cfg, ep)
        returns[ep] = run_episode(env, Q, eps, rng, cfg, seed=cfg.seed if ep == 0 else None)
    env.close()
    return Q, returns


def greedy_success(Q: np.ndarray, cfg: QLearningConfig, episodes: int = 1_000,
                   seed: int = 1) -> float:
    """Mean return of the greedy policy (= success rate on FrozenLake)."""
    env, rng = make_env(cfg), np.random.default_rng(seed)
    total = sum(run_episode(env, Q, 0.0, rng, cfg, learn=False, seed=seed if i == 0 else None)
                for i in range(episodes))
    env.close()
    return total / episodes


def exploration_study(epsilons=(0.0, 0.01, 0.1, 0.3, 1.0), decay: bool = True,
                      seeds=(0, 1, 2), cfg: QLearningConfig | None = None,
                      progress=None) -> dict:
    """Train with each constant eps (and the decaying schedule) over several seeds.

    `progress` (a `hubkit.runlog.Progress`, total = schedules x seeds) advances per run.

    Returns:
        {label: {"curve": (episodes,) mean training return per episode over seeds,
                 "greedy": mean greedy success of the learned Q over seeds}}
    """
    cfg = cfg or QLearningConfig()
    schedules = {f"eps={e:g}": (lambda ep, e=e: e) for e in epsilons}
    if decay:
        schedules[f"eps {cfg.eps_start:g}->{cfg.eps_end:g}"] = None
    results = {}
    for label, schedule in schedules.items():
        curves, greedy = [], []
        for seed in seeds:
            run_cfg = QLearningConfig(**{**cfg.__dict__, "seed": seed})
            Q, returns = train(run_cfg, schedule)
            curves.append(returns)
            greedy.append(greedy_success(Q, run_cfg, episodes=200, seed=10_000 + seed))
            if progress is not None:
                progress.update(greedy_success=greedy[-1])
        results[label] = {"curve": np.mean(curves, axis=0), "greedy": float(np.mean(greedy))}
    return results


def plot_study(results: dict, path, window: int = 200) -> None:
    """Save the study as a PNG: moving-average training return per schedule, and the
    greedy success each one learned (matplotlib is imported here, with the Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_curve, ax_bar) = plt.subplots(1, 2, figsize=(11, 4))
    kernel = np.ones(window) / window
    for label, res in results.items():
        ax_curve.plot(np.convolve(res["curve"], kernel, mode="valid"), label=label)
    ax_curve.set(xlabel="episode", ylabel=f"training return ({window}-episode mean)",
                 title="Return while learning (exploration costs reward)")
    ax_curve.legend(fontsize=8)
    labels = list(results)
    ax_bar.bar(range(len(labels)), [results[k]["greedy"] for k in labels])
    ax_bar.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
    ax_bar.set(ylabel="greedy success rate", title="What the learned Q is worth")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """`python -m hubkit.rl.qlearning`: the exploration study on FrozenLake, as a PNG."""
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.rl.qlearning", __doc__, "qlearning")
    p.add_argument("--episodes", type=int, default=QLearningConfig.episodes)
    args = p.parse_args(argv)
    outputs = runlog.Outputs(args.out, "qlearning")
    cfg = QLearningConfig(episodes=args.episodes)
    runs = (5 + 1) * 3  # the default epsilons and the decaying schedule, three seeds each
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config(asdict(cfg))
        # step = run (schedule x seed), metric = the greedy success that run learned
        with runlog.Progress(runs, "run", enabled=not args.quiet, tracker=track) as bar:
            results = exploration_study(cfg=cfg, progress=bar)
    for label, res in results.items():
        print(f"{label:>14}: greedy success {res['greedy']:.2f}, "
              f"training return {res['curve'].mean():.3f}")
    plot_study(results, outputs.path("exploration.png"))
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
