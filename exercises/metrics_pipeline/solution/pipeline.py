"""A pandas cleaning pipeline and the data behind a metrics dashboard (exercise metrics_pipeline).

The metrics file format is hubkit's metrics.jsonl: one JSON object a line;
lines with a "config" key and no "step" describe the run, the others are
{"step": s, "time": seconds, "<metric>": value, ...}.
"""

import io
import json

import numpy as np
import pandas as pd


def read_metrics(text):
    """{metric: (steps array, values array)} from the text of a metrics.jsonl file."""
    # BEGIN SOLUTION
    series = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        if "step" not in record:
            continue
        for key, value in record.items():
            if key not in ("step", "time"):
                series.setdefault(key, []).append((record["step"], float(value)))
    return {k: (np.array([s for s, _ in v]), np.array([x for _, x in v]))
            for k, v in series.items()}
    # END SOLUTION


def smooth(values, weight):
    """Bias-corrected exponential moving average of a curve: s_t / (1 - weight^t)."""
    # BEGIN SOLUTION
    out, s = [], 0.0
    for t, x in enumerate(values, start=1):
        s = weight * s + (1 - weight) * x
        out.append(s / (1 - weight ** t))
    return np.array(out)
    # END SOLUTION


def clean_table(csv_text, target):
    """{column: float array} after: duplicates and rows missing `target` dropped, numeric
    holes filled with the column median, text holes with the most frequent value, and
    text columns one-hot encoded as `column=value`."""
    # BEGIN SOLUTION
    df = pd.read_csv(io.StringIO(csv_text)).drop_duplicates().dropna(subset=[target])
    text = []
    for col in df.columns:
        if df[col].dtype.kind in "fiu":
            df[col] = df[col].fillna(df[col].median())
        else:
            df[col] = df[col].fillna(df[col].mode().iloc[0])
            text.append(col)
    df = pd.get_dummies(df, columns=text, prefix_sep="=", dtype=float)
    return {col: df[col].to_numpy(dtype=float) for col in df.columns}
    # END SOLUTION
