"""Checker spec for metrics_pipeline: against hubkit.basics.dashboard and hubkit.basics.dataprep.

A metrics log and a messy table (duplicates, holes, a text column) are drawn
from the run's seed and handed over as text.
"""

from __future__ import annotations

import json

import numpy as np
import torch

from hubkit.basics import dashboard, dataprep
from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _rng(ctx):
    return np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))


def _log_text(rng) -> str:
    lines = [json.dumps({"run": "demo", "config": {"lr": 0.1}})]
    for step in range(1, 13):
        lines.append(json.dumps({"step": step, "time": 0.1 * step,
                                 "loss": float(2 / step + 0.1 * rng.random()),
                                 "accuracy": float(1 - 1 / (step + 1))}))
    return "\n".join(lines) + "\n"


def _table_text(rng) -> str:
    import pandas as pd

    n = 30
    df = pd.DataFrame({"size": rng.normal(10, 3, n).round(2),
                       "rooms": rng.integers(1, 6, n).astype(float),
                       "region": rng.choice(["north", "south", "coast"], n),
                       "price": rng.normal(100, 20, n).round(1)})
    for col, frac in (("size", 0.2), ("region", 0.15), ("price", 0.1)):
        df.loc[rng.random(n) < frac, col] = None
    df = pd.concat([df, df.iloc[:4]], ignore_index=True)  # duplicates
    return df.to_csv(index=False)


def _reference_table(csv_text: str, target: str) -> dict:
    import io

    import pandas as pd

    df = pd.read_csv(io.StringIO(csv_text)).drop_duplicates().dropna(subset=[target])
    df = dataprep.one_hot_encode(dataprep.fill_missing(df), exclude=(target,))
    return {c: df[c].to_numpy(dtype=float) for c in df.columns}


def _check_metrics(learner, ctx, rng) -> None:
    text = _log_text(rng)
    with ctx.guard():
        got = learner.read_metrics(text)
    want = {k: v for k, v in dashboard.read_metrics_text(text).items()}
    if sorted(got) != sorted(want):
        raise CheckFailure(f"read_metrics found metrics {sorted(got)}, expected {sorted(want)} "
                           "(skip the config record and the step and time keys)")
    for k, (steps, values) in want.items():
        if not (np.array_equal(got[k][0], steps) and np.allclose(got[k][1], values)):
            raise CheckFailure(f"read_metrics: the steps or values of {k!r} differ")
    curve = want["loss"][1]
    with ctx.guard():
        sm = learner.smooth(curve, 0.8)
    if not np.allclose(np.asarray(sm, dtype=float), dashboard.smooth(curve, 0.8), rtol=1e-9):
        raise CheckFailure("smooth: differs from the bias-corrected moving average: divide s_t "
                           "by (1 - weight^t), so the first value is x_1 itself")


def _check_table(learner, ctx, rng) -> None:
    text = _table_text(rng)
    with ctx.guard():
        got = learner.clean_table(text, "price")
    want = _reference_table(text, "price")
    if sorted(got) != sorted(want):
        raise CheckFailure(f"clean_table columns {sorted(got)}, expected {sorted(want)}")
    for col, w in want.items():
        g = np.asarray(got[col], dtype=float)
        if g.shape != w.shape:
            raise CheckFailure(f"clean_table: column {col!r} has {len(g)} rows, expected "
                               f"{len(w)}: drop duplicate rows and rows whose target is missing")
        if not np.allclose(g, w):
            raise CheckFailure(f"clean_table: column {col!r} differs: fill numeric holes with "
                               "the median, text holes with the most frequent value")


def check(learner, ctx: CheckContext) -> None:
    rng = _rng(ctx)
    _check_metrics(learner, ctx, rng)
    _check_table(learner, ctx, rng)
    ctx.note("metrics parsed and smoothed; the table cleaned like the reference pipeline")


SPEC = CustomSpec(check=check)
