"""The runs that `hubkit.runlog` wrote: find them, read their metrics, plot their curves.

Behind `hubkit runs`. A run is a folder holding `metrics.jsonl` (the format is
documented in `hubkit.runlog`). Only the standard library is imported here, and
matplotlib when a plot is asked for: listing runs never imports torch.

Example:
    >>> import tempfile
    >>> from hubkit import runlog, runs
    >>> root = Path(tempfile.mkdtemp())
    >>> with runlog.Tracker(root / "demo-1", config={"lr": 0.1}) as t:
    ...     t.log(1, loss=2.0)
    ...     t.log(2, loss=1.5, acc=0.5)
    >>> [(r.name, r.last) for r in runs.find_runs(root)]
    [('demo-1', {'loss': 1.5, 'acc': 0.5})]
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

METRICS_FILE = "metrics.jsonl"  # as hubkit.runlog.METRICS_FILE (not imported: keep this light)


@dataclass
class Run:
    """One run read back from its metrics.jsonl."""

    path: Path
    """the run's folder"""
    name: str
    """the run name recorded in the file (the folder's name by default)"""
    started: str
    """ISO time the run started ("" if the file has no header)"""
    config: dict = field(default_factory=dict)
    """every config record merged, later ones winning"""
    records: list[dict] = field(default_factory=list)
    """the measurement records, in file order"""

    @property
    def last(self) -> dict:
        """The latest value of every metric (step and time left out)."""
        latest: dict = {}
        for r in self.records:
            latest.update((k, v) for k, v in r.items() if k not in ("step", "time"))
        return latest

    def metrics(self) -> list[str]:
        """Names of the numeric metrics, in order of first appearance."""
        return [k for k, v in self.last.items() if not isinstance(v, str)]

    def curve(self, metric: str) -> tuple[list[int], list[float]]:
        """(steps, values) of `metric`; null (NaN/inf when logged) comes back as NaN."""
        pairs = [(r["step"], float("nan") if r[metric] is None else r[metric])
                 for r in self.records if metric in r and not isinstance(r[metric], str)]
        return [s for s, _ in pairs], [v for _, v in pairs]


def read_run(folder: str | os.PathLike) -> Run:
    """Read `folder/metrics.jsonl`; a torn last line (a run still writing) is skipped."""
    folder = Path(folder)
    run = Run(folder, folder.name, "")
    for line in (folder / METRICS_FILE).read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "config" in record:
            run.name = record.get("run", run.name)
            run.started = record.get("started", run.started)
            run.config.update(record["config"])
        elif "step" in record:
            run.records.append(record)
    return run


def find_runs(root: str | os.PathLike = "runs") -> list[Run]:
    """Every run under `root` (at any depth, `root` itself included), oldest first."""
    root = Path(root)
    files = sorted(root.rglob(METRICS_FILE)) if root.is_dir() else []
    found = [read_run(f.parent) for f in files]
    return sorted(found, key=lambda r: (r.started, str(r.path)))


def resolve(names: list[str], root: str | os.PathLike = "runs") -> list[Run]:
    """Runs named on the command line, in order, each once.

    A name is a run folder, a folder of runs (all of them), or a run's name under `root`.

    Raises:
        ValueError: a name that matches no run (the message lists the runs under `root`).
    """
    chosen: dict[Path, Run] = {}
    for name in names:
        found = find_runs(name) if Path(name).is_dir() else []
        if not found:
            found = [r for r in find_runs(root) if name in (r.name, r.path.name)]
        if not found:
            known = ", ".join(r.path.name for r in find_runs(root)) or "none"
            raise ValueError(f"no run {name!r}: not a folder holding {METRICS_FILE}, nor a "
                             f"run under {root}/ (known: {known})")
        chosen.update((r.path.resolve(), r) for r in found)
    return list(chosen.values())


def plot(runs: list[Run], metrics: list[str], path: str | os.PathLike) -> Path:
    """One panel per metric, side by side, each with every run's curve; a PNG at `path`.

    Raises:
        ValueError: no given run logged any of `metrics`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not any(m in r.metrics() for r in runs for m in metrics):
        raise ValueError(f"no run logged {', '.join(metrics)}")
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        for run in runs:
            steps, values = run.curve(metric)
            if steps:
                ax.plot(steps, values, label=run.name, marker="." if len(steps) < 30 else None)
        ax.set(xlabel="step", ylabel=metric, title=metric)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def command(targets: list[str], plot_metrics: str | None, out: str | None, console) -> None:
    """`hubkit runs`: list runs (name, start, last step, last metrics) or plot them.

    Without `plot_metrics`: list the runs under targets[0] (default runs/). With it
    (comma-separated metric names) and `out` (a PNG path): draw the runs' curves side
    by side, one panel per metric, every run in each; a target is a run folder, a
    folder of runs, or a run's name under runs/ (default: every run under runs/).
    A usage problem raises ValueError with the message for the user.
    """
    if plot_metrics is None:
        if len(targets) > 1:
            raise ValueError("give one FOLDER to list (or --plot METRIC --out PNG RUN ...)")
        folder = Path(targets[0]) if targets else Path("runs")
        _print_table(find_runs(folder), folder, console)
        return
    if out is None:
        raise ValueError("--plot needs --out PNG (where to write the figure)")
    metrics = [m.strip() for m in plot_metrics.split(",") if m.strip()]
    chosen = resolve(targets or ["runs"])
    try:
        png = plot(chosen, metrics, out)
    except ImportError:
        raise ValueError("plotting needs matplotlib: pip install 'hubkit-learn[plot]'") from None
    print(f"wrote {png} ({', '.join(metrics)} of {len(chosen)} run(s): "
          f"{', '.join(r.name for r in chosen)})")


def _print_table(found: list[Run], folder: Path, console) -> None:
    from rich.table import Table

    if not found:
        print(f"no runs under {folder}/ (a training script writes one per call, e.g. "
              "`python -m hubkit.cnn.train digits`)")
        return
    table = Table(title=f"runs under {folder}/")
    for col in ("run", "started", "step", "last metrics"):
        table.add_column(col, overflow="fold")
    for run in found:
        step = str(run.records[-1]["step"]) if run.records else "-"
        last = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}"
                         for k, v in run.last.items())
        table.add_row(run.name, run.started.replace("T", " ")[:19], step, last or "-")
    console.print(table)
