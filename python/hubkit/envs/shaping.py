"""Reward shaping on a reach task: sparse, dense and potential-based, solved exactly.

A reach task pays for touching the target; learning from that sparse signal
is slow, so one adds a denser reward. Ng, Harada and Russell (1999,
https://people.eecs.berkeley.edu/~russell/papers/icml99-shaping.pdf) proved that
adding F(s, s') = gamma * Phi(s') - Phi(s), for any potential Phi, keeps every
optimal policy: Q_shaped(s, a) = Q(s, a) - Phi(s), so the greedy actions do not
move. Any other addition can change them. Here the reach task is a gridworld
(the fingertip's cell; the target 'G'; a hole 'H' where the arm hits the
table and the episode ends), solved by value iteration (`hubkit.rl.mdp`):

* sparse: +1 on reaching the target, -1 in the hole;
* dense: sparse plus -w * distance(s', target) every step (Reacher's
  reward_dist): a long detour now costs more than the hole, so the optimal
  policy dives into the hole;
* bonus: sparse plus +w * (1 - distance / max distance) every step: staying
  near the target forever pays more than reaching it, so it loiters;
* potential: sparse plus gamma * Phi(s') - Phi(s), Phi = -w * distance
  (0 at terminal states): the same greedy policy as sparse, exactly.

Each optimal policy is scored on the task's true (sparse) reward: its value
from the start and the chance it ever reaches the target.

Run: `python -m hubkit.envs.shaping --out runs/shaping` (a second; writes
results.json and shaping.png).

Shapes: S states, A actions; Phi (S,); policies (S, A).
"""

from __future__ import annotations

import json

import numpy as np

from hubkit.rl.mdp import TabularMDP, gridworld, policy_evaluation_exact, value_iteration

GRID = ["S..H.....",
        ".#######.",
        ".#G......",
        ".#######.",
        "........."]
"""The reach task: the short way to G is blocked; the hole H is one step from the start."""

SHAPINGS = ("sparse", "dense", "bonus", "potential")


def cells(grid: list[str], char: str) -> list[int]:
    """State indices of every cell holding `char`."""
    cols = len(grid[0])
    return [r * cols + c for r, row in enumerate(grid) for c, ch in enumerate(row) if ch == char]


def distance_to_goal(grid: list[str]) -> np.ndarray:
    """Euclidean distance of every cell to the (first) goal cell (S,)."""
    cols = len(grid[0])
    g = cells(grid, "G")[0]
    rows, cs = np.divmod(np.arange(len(grid) * cols), cols)
    return np.hypot(rows - g // cols, cs - g % cols)


def next_state_reward(mdp: TabularMDP, f: np.ndarray) -> np.ndarray:
    """Expected f(s') after (s, a), as a reward (S, A); zero in terminal states."""
    out = mdp.P @ f
    out[mdp.terminal] = 0.0
    return out


def shaped(mdp: TabularMDP, grid: list[str], kind: str, weight: float = 0.1) -> TabularMDP:
    """The reach MDP with reward `kind` (one of SHAPINGS) added to the sparse reward."""
    d = distance_to_goal(grid)
    if kind == "sparse":
        extra = np.zeros_like(mdp.R)
    elif kind == "dense":
        extra = next_state_reward(mdp, -weight * d)
    elif kind == "bonus":
        extra = next_state_reward(mdp, weight * (1 - d / d.max()))
    elif kind == "potential":
        phi = np.where(mdp.terminal, 0.0, -weight * d)  # Phi(terminal) = 0 keeps it exact
        extra = mdp.gamma * next_state_reward(mdp, phi) - phi[:, None]
        extra[mdp.terminal] = 0.0
    else:
        raise ValueError(f"kind must be one of {SHAPINGS}, got {kind!r}")
    return TabularMDP(mdp.P, mdp.R + extra, mdp.gamma, mdp.terminal, mdp.shape)


def reach_probability(mdp: TabularMDP, policy: np.ndarray, goal: list[int]) -> np.ndarray:
    """Chance, from each state, of ever entering a goal cell under `policy` (S,)."""
    hit = mdp.P[:, :, goal].sum(-1)  # reward 1 for the step that enters the goal
    hit[mdp.terminal] = 0.0
    undiscounted = TabularMDP(mdp.P, hit, 1.0 - 1e-9, mdp.terminal)
    return policy_evaluation_exact(undiscounted, policy)


def compare(grid: list[str] = GRID, slip: float = 0.0, gamma: float = 0.95,
            weight: float = 0.1) -> dict[str, dict]:
    """Each shaping's optimal policy, scored on the sparse reward from the start."""
    base = gridworld(grid, slip=slip, gamma=gamma)
    start, goal = cells(grid, "S")[0], cells(grid, "G")
    _, best = value_iteration(base)
    out = {}
    for kind in SHAPINGS:
        _, policy = value_iteration(shaped(base, grid, kind, weight))
        live = ~base.terminal & (np.array(list("".join(grid))) != "#")
        out[kind] = {
            "policy": policy,
            "true_value_from_start": float(policy_evaluation_exact(base, policy)[start]),
            "reach_probability": float(reach_probability(base, policy, goal)[start]),
            "same_actions_as_sparse": float((policy.argmax(1) == best.argmax(1))[live].mean()),
        }
    return out


def plot(results: dict, grid: list[str], path: str) -> str:
    """Each shaping's greedy policy as arrows on the grid (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = len(grid), len(grid[0])
    arrows = {0: (0, 0.35), 1: (0.35, 0), 2: (0, -0.35), 3: (-0.35, 0)}
    colors = {"#": "0.3", "G": "tab:green", "H": "tab:red", "S": "tab:blue"}
    fig, axes = plt.subplots(1, len(results), figsize=(3.2 * len(results), 2.4))
    for ax, (kind, r) in zip(axes, results.items(), strict=True):
        for s in range(rows * cols):
            y, x = divmod(s, cols)
            ch = grid[y][x]
            ax.add_patch(plt.Rectangle((x - .5, rows - 1 - y - .5), 1, 1,
                                       color=colors.get(ch, "white"), alpha=0.6))
            if ch in ".S":
                dx, dy = arrows[int(r["policy"][s].argmax())]
                ax.arrow(x - dx / 2, rows - 1 - y - dy / 2, dx, dy, head_width=0.15)
        ax.set_xlim(-.5, cols - .5)
        ax.set_ylim(-.5, rows - .5)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{kind}: reach {r['reach_probability']:.0%}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def build_parser():
    from hubkit import runlog

    p = runlog.parser("python -m hubkit.envs.shaping", __doc__, "shaping")
    p.add_argument("--slip", type=float, default=0.0, help="chance of sliding sideways")
    p.add_argument("--weight", type=float, default=0.1, help="w, the shaping's scale")
    return p


def main(argv: list[str] | None = None) -> None:
    """Solve the reach gridworld under every shaping; write results.json and shaping.png."""
    from hubkit import runlog

    args = build_parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    results = compare(slip=args.slip, weight=args.weight)
    table = {k: {f: v for f, v in r.items() if f != "policy"} for k, r in results.items()}
    summary = {"grid": GRID, "slip": args.slip, "weight": args.weight, "gamma": 0.95,
               "shapings": table}
    outputs.path("results.json").write_text(json.dumps(summary, indent=2) + "\n")
    plot(results, GRID, str(outputs.path("shaping.png")))
    for kind, r in table.items():
        print(f"{kind:9s} reach {r['reach_probability']:.2f}  true value "
              f"{r['true_value_from_start']:.4f}  same actions {r['same_actions_as_sparse']:.0%}")
    outputs.report()


if __name__ == "__main__":
    from hubkit import runlog

    runlog.run_main(main)
