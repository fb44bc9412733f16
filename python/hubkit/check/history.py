"""A learner's history of correct attempts and their speed, kept in the workspace.

Every passing `hubkit check ID` run from a workspace appends one line to

    WORKSPACE/history/<ID>.jsonl

holding when it ran, the seed, the backend, the machine and its load, each
provider's median time, and (when the timing loop recorded per-round times)
the ratio to the baseline with its 95% CI and verdict (hubkit.check.speed).
`hubkit progress --history ID` shows the file as a table and plots it.

Example:
    >>> entry = {"attempt": 1, "when": "2026-12-01T10:00:00+00:00", "backend": "cpp",
    ...          "providers": {"learner": {"median_ms": 2.0}, "reference": {"median_ms": 1.0}},
    ...          "baseline": "reference", "ratio": 2.0, "ci": [1.8, 2.2], "verdict": "slower"}
    >>> ratio_cell(entry)
    '2.00x (1.80-2.20)'
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hubkit.check.result import Result

FOLDER = "history"


def history_path(ws: Path, exercise_id: str) -> Path:
    return Path(ws) / FOLDER / f"{exercise_id}.jsonl"


def entry_for(result: Result) -> dict[str, Any]:
    """The history line for one passing result (timings summarized, raw rounds dropped)."""
    entry: dict[str, Any] = {"when": result.when, "seed": result.seed, "backend": result.backend,
                             "impl": result.impl, "machine": result.machine,
                             "elapsed_s": result.elapsed_s}
    timings = result.timings or {}
    from hubkit.check import speed

    if speed.is_new_shape(timings):
        try:
            summary = speed.summarize(timings, result.machine)
        except (KeyError, ValueError):
            summary = {"providers": {}}
        entry |= {k: summary[k] for k in ("providers", "baseline", "ratio", "ci", "verdict",
                                          "busy", "load", "suspicious") if k in summary}
    elif timings.get("providers"):  # the older medians-only shape
        entry["providers"] = timings["providers"]
        speedup = timings.get("speedup_vs_reference")
        entry |= {"baseline": "reference", "ratio": 1 / speedup} if speedup else {}
        entry["load"] = speed.load(result.machine)
    return entry


def append(ws: Path, result: Result) -> Path | None:
    """Add a learner's passing result to its exercise's history; None when not a pass."""
    if not (result.passed and result.impl == "learner"):
        return None
    path = history_path(ws, result.exercise)
    path.parent.mkdir(exist_ok=True)
    entry = {"attempt": len(load(ws, result.exercise)) + 1} | entry_for(result)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")
    return path


def load(ws: Path, exercise_id: str) -> list[dict[str, Any]]:
    """Every recorded passing attempt of `exercise_id`, oldest first (bad lines skipped)."""
    path = history_path(ws, exercise_id)
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except ValueError:
            continue  # subtle: a line cut short by a crash must not hide the others
    return entries


def _median(entry: dict, provider: str | None) -> float | None:
    return (entry.get("providers") or {}).get(provider or "", {}).get("median_ms")


def ratio_cell(entry: dict) -> str:
    """'2.00x (1.80-2.20)': the attempt's time over the baseline's, with the 95% CI."""
    if entry.get("ratio") is None:
        return "-"
    ci = entry.get("ci")
    return f"{entry['ratio']:.2f}x" + (f" ({ci[0]:.2f}-{ci[1]:.2f})" if ci else "")


def table(entries: list[dict], exercise_id: str):
    """A rich Table: attempt, when, backend, your median, the baseline's, ratio, verdict."""
    from rich.table import Table
    from rich.text import Text

    out = Table(title=f"{exercise_id}: {len(entries)} passing attempts "
                "(time ratio > 1: yours takes longer)", title_justify="left")
    for col in ("#", "when (UTC)", "backend", "yours ms", "baseline ms", "ratio (95% CI)",
                "verdict", "load"):
        out.add_column(col, justify="left" if col in ("when (UTC)", "backend", "verdict")
                       else "right")
    for e in entries:
        mine, base = _median(e, "learner"), _median(e, e.get("baseline"))
        load_ = (e.get("load") or {}).get("loadavg")
        verdict = (e.get("verdict") or "-") + (" (busy)" if e.get("busy") else "")
        out.add_row(str(e.get("attempt", "")), Text(str(e.get("when", ""))[:16].replace("T", " ")),
                    Text(str(e.get("backend", ""))), f"{mine:.3f}" if mine else "-",
                    f"{base:.3f}" if base else "-", ratio_cell(e), verdict,
                    f"{load_:.1f}" if load_ is not None else "-")
    return out


def plot(entries: list[dict], exercise_id: str, out: Path) -> Path:
    """Write a PNG: each provider's median time per attempt (error bars: the IQR)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    attempts = [e.get("attempt", i + 1) for i, e in enumerate(entries)]
    names = sorted({n for e in entries for n in (e.get("providers") or {})},
                   key=lambda n: (n != "learner", n))
    for name in names:
        pts = [(a, e["providers"][name]) for a, e in zip(attempts, entries, strict=True)
               if name in (e.get("providers") or {})]
        label = "your code" if name == "learner" else (
            pts[-1][1].get("description") or name)
        ax.errorbar([a for a, _ in pts], [p["median_ms"] for _, p in pts],
                    yerr=[p.get("iqr_ms", 0) / 2 for _, p in pts], marker="o", capsize=3,
                    label=label, linewidth=2.5 if name == "learner" else 1)
    ax.set(xlabel="passing attempt", ylabel="median time per call (ms)",
           title=f"{exercise_id}: your passing attempts")
    ax.set_xticks(attempts)
    if names:
        ax.legend()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
