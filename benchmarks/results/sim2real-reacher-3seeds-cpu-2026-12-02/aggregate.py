"""Mean and spread over the seed-*/ runs of `python -m hubkit.envs.sim2real_ppo`.

Usage: python aggregate.py FOLDER  (writes FOLDER/summary.json and FOLDER/robustness-seeds.png)
"""

import json
import sys
from pathlib import Path

import numpy as np

from hubkit.envs.sim2real_ppo import KINDS


def load(folder: Path) -> tuple[list[float], dict[str, dict[str, np.ndarray]]]:
    """Eval sizes and, per strategy and kind, returns (seeds, sizes)."""
    runs = [json.loads(p.read_text()) for p in sorted(folder.glob("seed-*/results.json"))]
    sizes = runs[0]["config"]["eval_sizes"]
    curves = {s: {k: np.array([r["curves"][s][k] for r in runs]) for k in KINDS}
              for s in runs[0]["strategies"]}
    return sizes, curves


def summary(sizes, curves) -> dict:
    """Per strategy: nominal return, mean over sizes per kind (mean and std over seeds)."""
    out = {"eval_sizes": sizes, "seeds": int(next(iter(curves.values()))["all"].shape[0])}
    for s, by_kind in curves.items():
        over = {k: v.mean(axis=1) for k, v in by_kind.items()}  # (seeds,) mean over sizes
        out[s] = {"nominal": [float(by_kind["all"][:, 0].mean()),
                              float(by_kind["all"][:, 0].std())],
                  "mean_over_sizes": {k: [float(v.mean()), float(v.std())]
                                      for k, v in over.items()},
                  "all_by_size_mean": by_kind["all"].mean(axis=0).tolist(),
                  "all_by_size_std": by_kind["all"].std(axis=0).tolist()}
    return out


def plot(sizes, curves, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(KINDS), figsize=(3 * len(KINDS), 3), sharey=True)
    for ax, kind in zip(axes, KINDS, strict=True):
        for s, by_kind in curves.items():
            mean, std = by_kind[kind].mean(0), by_kind[kind].std(0)
            ax.plot(sizes, mean, marker="o", label=s)
            ax.fill_between(sizes, mean - std, mean + std, alpha=0.2)
        ax.set_title(kind)
        ax.set_xlabel("size s")
    axes[0].set_ylabel("episode return (mean +- std over seeds)")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    sizes, curves = load(folder)
    table = summary(sizes, curves)
    (folder / "summary.json").write_text(json.dumps(table, indent=2) + "\n")
    plot(sizes, curves, folder / "robustness-seeds.png")
    for s in curves:
        row = table[s]
        print(f"{s:>10}: nominal {row['nominal'][0]:7.2f} +- {row['nominal'][1]:.2f}   "
              f"all-perturbation mean over sizes {row['mean_over_sizes']['all'][0]:7.2f} "
              f"+- {row['mean_over_sizes']['all'][1]:.2f}")
