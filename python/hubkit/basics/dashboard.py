"""A metrics dashboard: one figure of a training run's curves, read from its metrics.jsonl.

Every hubkit training script logs through `hubkit.runlog` into `metrics.jsonl`
(one JSON object a line; the format is documented there). `read_metrics` turns
that file into one array per metric, `smooth` is an exponential moving average
(what TensorBoard's smoothing slider does), and `dashboard` draws one panel per
metric with the raw values faint and the smoothed curve on top.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np


def read_metrics(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """metric name -> (steps, values) from a metrics.jsonl file (config lines skipped).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "metrics.jsonl"
        >>> _ = p.write_text('{"config": {}}\\n{"step": 1, "time": 0.1, "loss": 2.0}\\n')
        >>> read_metrics(p)["loss"][1].tolist()
        [2.0]
    """
    return read_metrics_text(Path(path).read_text())


def read_metrics_text(text: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """read_metrics for the file's text."""
    series: dict[str, list[tuple[float, float]]] = {}
    for line in text.splitlines():
        record = json.loads(line) if line.strip() else {}
        if "step" not in record:
            continue  # a config record
        for key, value in record.items():
            if key not in ("step", "time") and isinstance(value, int | float):
                series.setdefault(key, []).append((record["step"], float(value)))
    return {k: (np.array([s for s, _ in v]), np.array([x for _, x in v]))
            for k, v in series.items()}


def smooth(values: np.ndarray, weight: float = 0.9) -> np.ndarray:
    """Bias-corrected exponential moving average: s_t = w s_(t-1) + (1 - w) x_t, / (1 - w^t).

    Example:
        >>> smooth(np.array([1.0, 1.0, 1.0]), 0.5).tolist()
        [1.0, 1.0, 1.0]
    """
    if not 0 <= weight < 1:
        raise ValueError(f"weight: expected in [0, 1), got {weight!r}")
    out, s = np.empty(len(values)), 0.0
    for t, x in enumerate(np.asarray(values, dtype=np.float64), start=1):
        s = weight * s + (1 - weight) * x
        out[t - 1] = s / (1 - weight ** t)
    return out


def dashboard(metrics: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path,
              title: str = "training run", weight: float = 0.8) -> Path:
    """One panel per metric (up to 3 a row), raw and smoothed; save a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(metrics)
    if not names:
        raise ValueError("metrics: nothing to draw")
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        steps, values = metrics[name]
        ax.plot(steps, values, alpha=0.3, color="tab:blue")
        ax.plot(steps, smooth(values, weight), color="tab:blue", lw=2)
        ax.set(title=name, xlabel="step")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
