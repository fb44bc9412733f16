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
# # Part 3: Neural network fundamentals
#
# A perceptron (3.1), backpropagation in a NumPy tensor library trained on
# MNIST-format digits (3.2), the same network in PyTorch with a profile (3.3),
# and optimizers, regularization and schedules (3.4). Exercises: `perceptron`,
# `scalar_autograd`, `tensor_autograd`, `numerical_gradient`, `torch_mlp`,
# `optimizers`, `dropout_batchnorm`, `lr_schedules`.

# %%
import tempfile

import matplotlib.pyplot as plt
import numpy as np
import torch

from hubkit.basics import mnist, perceptron, profiling, studies, tensorlib, torch_mlp
from hubkit.basics.train import RaceConfig, race_optimizers

# %% [markdown]
# ## 3.1 A perceptron and its decision boundary

# %%
X, y = perceptron.separable_blobs(80, seed=1)
p = perceptron.Perceptron(2).fit(X, y)
u, v = np.meshgrid(np.linspace(-3.5, 3.5, 100), np.linspace(-3.5, 3.5, 100))
grid = np.stack([u.ravel(), v.ravel()], axis=1)
plt.contourf(u, v, p.predict(grid).reshape(u.shape), alpha=0.2, cmap="coolwarm")
plt.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=15)
plt.title(f"{sum(p.mistakes)} updates, {len(p.mistakes)} epochs"); plt.show()

# %% [markdown]
# Activations and why classification uses cross-entropy: on a confident
# mistake MSE's gradient vanishes, cross-entropy's does not.

# %%
z = np.linspace(-4, 4, 200)
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
for name in ("sigmoid", "tanh", "relu"):
    axes[0].plot(z, perceptron.activation(name, z), label=name)
axes[0].legend(); axes[0].set_title("activations")
conf = np.linspace(0.01, 0.99, 100)
for name, g in perceptron.loss_gradients_when_wrong(conf).items():
    axes[1].plot(conf, g, label=name)
axes[1].set(xlabel="probability put on the wrong class", title="|d loss / d logit|")
axes[1].legend(); plt.show()

# %% [markdown]
# ## 3.2 A from-scratch library on MNIST-format data
# scikit-learn's digits are written as MNIST IDX files, read back by
# `mnist.read_idx`, and an MLP built from `tensorlib.Tensor` learns them with
# NumPy only (the same as `python -m hubkit.basics.mnist`).

# %%
folder = mnist.digits_as_idx(tempfile.mkdtemp())
images = mnist.read_idx(folder / "train-images-idx3-ubyte")
print(images.shape, images.dtype)
out = mnist.train(mnist.MnistConfig(epochs=2), folder)
print([round(r["test_accuracy"], 3) for r in out["history"]])

# %%
fig, axes = plt.subplots(1, 6, figsize=(9, 1.8))
Xte, yte = mnist.load_split(folder, "test")
pred = out["net"](tensorlib.Tensor(Xte[:6])).data.argmax(1)
for ax, img, label, guess in zip(axes, Xte[:6], yte[:6], pred):
    ax.imshow(img.reshape(8, 8), cmap="gray_r"); ax.set_title(f"{label} -> {guess}"); ax.axis("off")
plt.show()

# %% [markdown]
# ## 3.3 The same network in PyTorch
# A custom `nn.Module` with a hand-written backward, checked against autograd,
# then a profile with `torch.profiler` (CPU here; CUDA too when a GPU exists).

# %%
print("max |manual - autograd|:", torch_mlp.manual_vs_autograd())
run = torch_mlp.train(epochs=2, manual=True)
print("PyTorch MLP test accuracy per epoch:", np.round(run["test_accuracy"], 3))
device = "cuda" if torch.cuda.is_available() else "cpu"
prof = profiling.profile_mlp(device, batch=64, width=64, steps=2)
print(prof["activities"], {k: round(v, 2) for k, v in prof["total_ms"].items()}, "ms")

# %% [markdown]
# ## 3.4 Optimizers, regularization and schedules

# %%
curves = race_optimizers(RaceConfig(steps=100))
curves_sched = race_optimizers(RaceConfig(steps=100, schedule=True, warmup=10))
fig, axes = plt.subplots(1, 3, figsize=(14, 3.2))
for name, c in curves.items():
    axes[0].plot(c, label=name)
axes[0].set(yscale="log", title="optimizer race (constant lr)"); axes[0].legend(fontsize=7)
for name, c in studies.schedule_curves(total=100, warmup=10).items():
    axes[1].plot(c, label=name)
axes[1].set_title("learning-rate schedules"); axes[1].legend(fontsize=7)
study = studies.regularization_study()
xt = np.linspace(0, 1, 200)
axes[2].scatter(study["none"]["x"], study["none"]["y"], color="k", s=10)
for name, r in study.items():
    axes[2].plot(xt, studies.poly_features(xt, 12) @ r["w"], label=f"{name}: test {r['test_mse']:.3f}")
axes[2].set(ylim=(-2, 2), title="degree-12 fits"); axes[2].legend(fontsize=7)
plt.show()
print({k: round(float(v[-1]), 4) for k, v in curves_sched.items()}, "(warmup + cosine)")
