# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 2: Python foundations
#
# Classes with dunder methods, decorators, context managers and type hints
# (2.1), then NumPy broadcasting, Matplotlib and pandas (2.2). Exercises:
# `python_tools`, `scalar_autograd`, `broadcasting`, `metrics_pipeline`.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

from hubkit.basics import dashboard, numpy_drills, pytools, tensorlib

# %% [markdown]
# ## Operator overloading: a Tensor that broadcasts like NumPy
# `hubkit.basics.tensorlib.Tensor` defines `__add__`, `__mul__`, `__matmul__`...
# and gives the same values as NumPy, plus gradients.

# %%
x = tensorlib.Tensor(np.arange(6.0).reshape(2, 3))
b = tensorlib.Tensor(np.array([10.0, 20.0, 30.0]))
y = (x + b) * x
print(y.data, np.allclose(y.data, (x.data + b.data) * x.data))
y.sum().backward()
print("d sum / d b =", b.grad, "(b was broadcast over 2 rows)")

# %% [markdown]
# ## A decorator and a context manager

# %%
@pytools.timer
def slow_square(v: float) -> float:
    """Square v, slowly."""
    time.sleep(0.01)
    return v * v

print(slow_square(3.0), slow_square.__name__, len(slow_square.timings), "call timed")
with pytools.Timer() as t:
    sum(range(100_000))
print(f"the block took {t.seconds * 1e3:.2f} ms")

# %% [markdown]
# ## A Dataset, a DataLoader and a dataclass config

# %%
ds = pytools.ArrayDataset(np.arange(10.0)[:, None], np.arange(10) % 2)
loader = pytools.DataLoader(ds, pytools.LoaderConfig(batch_size=4, seed=0))
print(len(ds), ds[3], loader.config)
for xb, yb in loader:
    print(xb.ravel(), yb)

# %% [markdown]
# ## Broadcasting instead of loops
# (N, 1, D) - (1, M, D) -> (N, M, D): every pairwise difference at once.

# %%
rng = np.random.default_rng(0)
points, centers = rng.standard_normal((200, 2)), rng.standard_normal((3, 2)) * 2
assign = numpy_drills.nearest_centroid(points, centers)
plt.scatter(points[:, 0], points[:, 1], c=assign, s=10)
plt.scatter(centers[:, 0], centers[:, 1], c="red", marker="x", s=100)
plt.title("nearest center, computed without a loop"); plt.show()

# %% [markdown]
# ## A metrics dashboard from a training log
# Every hubkit training script writes `metrics.jsonl` through `hubkit.runlog`.
# Here a made-up log is written the same way and read back.

# %%
import tempfile
from pathlib import Path

from hubkit import runlog

folder = Path(tempfile.mkdtemp())
with runlog.Tracker(folder, name="demo", config={"lr": 0.1}) as tracker:
    for step in range(1, 101):
        tracker.log(step, loss=2.0 / step ** 0.5 + 0.1 * rng.random(), accuracy=1 - 1 / step ** 0.3)
metrics = dashboard.read_metrics(folder / "metrics.jsonl")
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, name in zip(axes, sorted(metrics)):
    steps, values = metrics[name]
    ax.plot(steps, values, alpha=0.3)
    ax.plot(steps, dashboard.smooth(values, 0.8), lw=2)
    ax.set(title=name, xlabel="step")
plt.tight_layout(); plt.show()

# %% [markdown]
# ## A pandas preprocessing pipeline
# scikit-learn's wine table with holes and a text column: fill, encode, split,
# then scale with the training statistics only.

# %%
from hubkit.basics import dataprep

raw = dataprep.wine_frame()
print(raw.isna().sum().head(4))
train, test = dataprep.preprocess(raw, target="target")
print(train.shape, test.shape)
train.head()
