"""Maximum-entropy inverse RL on a gridworld: recover a reward from an expert's paths.

Inverse RL asks the opposite question of RL: given what an expert did, which
reward were they optimizing? Many rewards explain the same behaviour (zero
explains everything), so maximum-entropy IRL (Ziebart et al., 2008,
https://cdn.aaai.org/AAAI/2008/AAAI08-227.pdf) picks the distribution over
paths that matches the expert's feature counts and is otherwise as random as
possible. Paths then have probability proportional to exp(reward of the path),
and the reward weights theta maximize the demonstrations' log-likelihood, whose
gradient is

    d log L / d theta = mu_expert - sum_s D(s) phi(s)

the expert's feature counts minus the counts the current reward's soft-optimal
policy expects. Computing D is two passes over the MDP:

* backward (`soft_value_iteration`): soft Bellman backups
  Q_k(s, a) = r(s) + sum_s' P[s, a, s'] V_{k-1}(s'), V_k(s) = logsumexp_a Q_k(s, a)
  over a horizon of T states, giving a time-varying stochastic policy
  pi_t(a | s) = exp(Q(s, a) - V(s)) (the causal-entropy form of Ziebart, 2010,
  which is right for a stochastic MDP such as a slippery gridworld);
* forward (`state_visitation`): push the start distribution through pi_t and
  P for T - 1 steps and add up where the probability mass is. A terminal state
  counts once when it is entered and passes nothing on: the episode is over.

The reward here is a function of the state, r(s) = phi(s) . theta, received for
every state of a path. With one-hot features phi(s) = e_s, theta is simply one
reward per cell, drawn by `plot_reward` as a heatmap.

A reward is only identified up to what the demonstrations show: cells the
expert never visits are pushed down, not measured, so the recovered reward's
optimal policy can differ from the expert's there (the run reports agreement on
visited and on all reachable states separately). What the method should
recover is a reward whose optimal policy acts like the expert where the expert
went, and earns the expert's return on the true MDP: `policy_agreement` and
`value_of` measure both.

Run `python -m hubkit.imitation.maxent_irl --out DIR` for the heatmap and the
figures.

Shape legend: S states, A actions, F features, T horizon (states per path), N paths.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from hubkit.rl import mdp as mdps

GRID = [
    "S....",
    ".##.H",
    "...#.",
    "H....",
    "...#G",
]


def one_hot_features(n_states: int) -> np.ndarray:
    """phi(s) = e_s: (S, S), one reward weight per state."""
    return np.eye(n_states)


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    top = x.max(axis=axis, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=axis, keepdims=True))).squeeze(axis)


def soft_value_iteration(P: np.ndarray, terminal: np.ndarray, reward: np.ndarray,
                         horizon: int) -> np.ndarray:
    """The maximum-entropy policy for a state reward, one per time step.

    Args:
        P: (S, A, S) transition probabilities.
        terminal: (S,) bool; a terminal state ends the path (its value is its reward).
        reward: (S,) reward for being in each state.
        horizon: T, the number of states in a path.

    Returns:
        (T, S, A) policy: row t is pi_t(a | s), the distribution over actions taken
        in the t-th state of a path (t = 0 .. T-1). Row T-1 is uniform: no action
        taken there changes the path's reward.
    """
    S, A, _ = P.shape
    policy = np.full((horizon, S, A), 1.0 / A)
    V = reward.copy()  # V_1: one state left to collect
    for t in range(horizon - 2, -1, -1):
        Q = reward[:, None] + P @ V  # (S, A): this state's reward, then the soft future
        V_new = _logsumexp(Q, axis=1)
        policy[t] = np.exp(Q - V_new[:, None])
        # subtle: a terminal state collects its reward and nothing more, whatever the horizon.
        V = np.where(terminal, reward, V_new)
    return policy


def state_visitation(P: np.ndarray, terminal: np.ndarray, policy: np.ndarray,
                     start: np.ndarray) -> np.ndarray:
    """Expected number of times each state is in a path of T states: D (S,).

    D = sum_t D_t with D_0 = start and
    D_{t+1}(s') = sum_{s not terminal} sum_a D_t(s) pi_t(a | s) P[s, a, s'].

    Args:
        P: (S, A, S) transition probabilities.
        terminal: (S,) bool; mass that reaches a terminal state stops there.
        policy: (T, S, A) time-varying policy from `soft_value_iteration`.
        start: (S,) distribution of the first state.
    """
    D_t = start.astype(np.float64).copy()
    total = D_t.copy()
    moving = ~terminal
    for t in range(policy.shape[0] - 1):
        flow = (D_t * moving)[:, None] * policy[t]  # (S, A) mass taking each action
        D_t = np.einsum("sa,sat->t", flow, P)
        total += D_t
    return total


def feature_expectations(paths: list[np.ndarray], features: np.ndarray) -> np.ndarray:
    """The expert's mean feature counts: (1/N) sum over paths of sum_t phi(s_t), (F,)."""
    return np.mean([features[path].sum(axis=0) for path in paths], axis=0)


def start_distribution(paths: list[np.ndarray], n_states: int) -> np.ndarray:
    """The empirical distribution of the paths' first states, (S,)."""
    return np.bincount([int(p[0]) for p in paths], minlength=n_states) / len(paths)


def irl_gradient(P: np.ndarray, terminal: np.ndarray, features: np.ndarray, theta: np.ndarray,
                 expert_counts: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """d log-likelihood / d theta = expert_counts - features.T @ D, (F,)."""
    policy = soft_value_iteration(P, terminal, features @ theta, horizon)
    return expert_counts - features.T @ state_visitation(P, terminal, policy, start)


@dataclass
class IRLConfig:
    """MaxEnt IRL settings: gradient ascent on theta with an L2 penalty."""

    horizon: int = 20
    iterations: int = 1000
    lr: float = 0.2
    l2: float = 0.001
    demos: int = 200
    slip: float = 0.1
    seed: int = 0


def maxent_irl(P: np.ndarray, terminal: np.ndarray, features: np.ndarray,
               paths: list[np.ndarray], cfg: IRLConfig,
               progress=None) -> tuple[np.ndarray, list[float]]:
    """Reward weights theta (F,) fitted to expert paths, and the gradient norm per iteration.

    The log-likelihood is concave in theta, so plain gradient ascent converges;
    the L2 penalty pins down the cells the expert never visits. `progress`, if
    given, is a `hubkit.runlog.Progress` updated once per iteration.
    """
    expert = feature_expectations(paths, features)
    start = start_distribution(paths, P.shape[0])
    theta = np.zeros(features.shape[1])
    norms = []
    for _ in range(cfg.iterations):
        grad = irl_gradient(P, terminal, features, theta, expert, start, cfg.horizon)
        grad -= cfg.l2 * theta
        theta += cfg.lr * grad
        norms.append(float(np.linalg.norm(grad)))
        if progress is not None:
            progress.update(grad_norm=norms[-1])
    return theta, norms


def sample_paths(P: np.ndarray, terminal: np.ndarray, policy: np.ndarray, start_state: int,
                 n: int, horizon: int, rng: np.random.Generator) -> list[np.ndarray]:
    """N paths of at most T states from a deterministic (S, A) one-hot policy."""
    actions = policy.argmax(axis=1)
    paths = []
    for _ in range(n):
        s, path = start_state, [start_state]
        while len(path) < horizon and not terminal[s]:
            s = int(rng.choice(P.shape[2], p=P[s, actions[s]]))
            path.append(s)
        paths.append(np.array(path))
    return paths


def entering_reward_mdp(mdp: mdps.TabularMDP, reward: np.ndarray) -> mdps.TabularMDP:
    """The same dynamics with R[s, a] = E[reward of the next state] (none after the end)."""
    R = mdp.P @ reward
    R[mdp.terminal] = 0.0
    return mdps.TabularMDP(mdp.P, R, mdp.gamma, mdp.terminal, mdp.shape)


def greedy_policy_for(mdp: mdps.TabularMDP, reward: np.ndarray) -> np.ndarray:
    """The optimal (S, A) one-hot policy when `reward` (S,) is earned on entering a state."""
    return mdps.value_iteration(entering_reward_mdp(mdp, reward))[1]


def reachable(mdp: mdps.TabularMDP, start_state: int) -> np.ndarray:
    """(S,) bool: the states any policy can reach from start_state before the episode ends."""
    seen = np.zeros(mdp.n_states, dtype=bool)
    frontier = [start_state]
    seen[start_state] = True
    while frontier:
        s = frontier.pop()
        if mdp.terminal[s]:
            continue
        for s_next in np.flatnonzero(mdp.P[s].sum(axis=0) > 0):
            if not seen[s_next]:
                seen[s_next] = True
                frontier.append(int(s_next))
    return seen


def policy_agreement(expert: np.ndarray, learned: np.ndarray, states: np.ndarray) -> float:
    """Fraction of the given states where two (S, A) policies pick the same action."""
    return float((expert.argmax(axis=1) == learned.argmax(axis=1))[states].mean())


def value_of(mdp: mdps.TabularMDP, policy: np.ndarray, state: int) -> float:
    """The true MDP's value of following `policy` from `state`."""
    return float(mdps.policy_evaluation_exact(mdp, policy)[state])


def plot_reward(reward: np.ndarray, grid: list[str], path: str | Path, title: str = "") -> Path:
    """A heatmap of a per-cell reward with the grid's letters on top; returns the PNG path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(grid), len(grid[0])
    cells = reward.astype(np.float64).reshape(rows, cols).copy()
    cells[np.array([[ch == "#" for ch in row] for row in grid])] = np.nan  # walls: grey
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    fig, ax = plt.subplots(figsize=(1.1 * cols + 1.5, 1.1 * rows))
    image = ax.imshow(cells, cmap=cmap)
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] != ".":
                color = "black" if grid[r][c] == "#" else "white"
                ax.text(c, r, grid[r][c], ha="center", va="center", color=color,
                        fontsize=14, weight="bold")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title or "recovered reward")
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out


@dataclass
class IRLResult:
    """What one run recovered and how well its optimal policy imitates the expert."""

    theta: np.ndarray
    agreement: float  # on the states the demonstrations visit
    agreement_reachable: float  # on every reachable state, visited or not
    expert_value: float
    learned_value: float
    final_grad_norm: float


def run(cfg: IRLConfig, grid: list[str] | None = None,
        progress=None) -> tuple[IRLResult, mdps.TabularMDP]:
    """Demonstrations from the optimal policy of `grid`, MaxEnt IRL, and the comparison."""
    grid = grid or GRID
    mdp = mdps.gridworld(grid, slip=cfg.slip, gamma=0.95, step_reward=-0.02)
    start_state = "".join(grid).index("S")
    expert = mdps.value_iteration(mdp)[1]
    rng = np.random.default_rng(cfg.seed)
    paths = sample_paths(mdp.P, mdp.terminal, expert, start_state, cfg.demos, cfg.horizon, rng)
    features = one_hot_features(mdp.n_states)
    theta, norms = maxent_irl(mdp.P, mdp.terminal, features, paths, cfg, progress)
    learned = greedy_policy_for(mdp, features @ theta)
    visited = np.zeros(mdp.n_states, dtype=bool)
    visited[np.concatenate(paths)] = True
    live = ~mdp.terminal
    return IRLResult(theta, policy_agreement(expert, learned, visited & live),
                     policy_agreement(expert, learned, reachable(mdp, start_state) & live),
                     value_of(mdp, expert, start_state), value_of(mdp, learned, start_state),
                     norms[-1]), mdp


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.imitation.maxent_irl", __doc__, "maxent-irl")
    p.add_argument("--iterations", type=int, default=IRLConfig.iterations,
                   help="gradient-ascent steps on theta")
    p.add_argument("--demos", type=int, default=IRLConfig.demos, help="expert paths")
    p.add_argument("--seed", type=int, default=IRLConfig.seed)
    return p


def main(argv: list[str] | None = None) -> None:
    """Recover the gridworld's reward, draw it, and compare the policies."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    cfg = IRLConfig(iterations=args.iterations, demos=args.demos, seed=args.seed)
    outputs = runlog.Outputs(args.out, args._run_name)
    with runlog.tracker(args, outputs) as track, \
            runlog.Progress(cfg.iterations, "IRL iteration", enabled=not args.quiet,
                            tracker=track) as bar:
        result, _ = run(cfg, progress=bar)
    title = (f"MaxEnt IRL reward, {cfg.demos} demos: agrees on {result.agreement:.0%} "
             "of visited states")
    plot_reward(result.theta, GRID, outputs.path("reward.png"), title)
    summary = {"config": asdict(cfg), "grid": GRID, "agreement_on_visited": result.agreement,
               "agreement_on_reachable": result.agreement_reachable,
               "expert_value": result.expert_value, "learned_value": result.learned_value,
               "final_grad_norm": result.final_grad_norm,
               "reward": np.round(result.theta, 4).tolist()}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"policy agreement: {result.agreement:.1%} of the states the expert visits, "
          f"{result.agreement_reachable:.1%} of all reachable ones; value from S: expert "
          f"{result.expert_value:.4f}, policy of the recovered reward {result.learned_value:.4f}")
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
