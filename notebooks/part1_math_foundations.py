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
# # Part 1: Mathematical foundations
#
# Linear algebra (1.1), calculus (1.2) and probability (1.3), each computed
# with hubkit's readable references (`hubkit.basics.*`) and drawn. The graded
# exercises are `matmul_python`, `linear_maps`, `chain_rule`,
# `gradient_descent` and `probability`: `hubkit check <id>`.

# %%
import matplotlib.pyplot as plt
import numpy as np

from hubkit.basics import calculus, linalg, probability, recommender, reference, studies

# %% [markdown]
# ## 1.1 Matrices are linear maps
# A 2x2 matrix sends the unit circle to an ellipse. For a symmetric matrix the
# ellipse's axes are the eigenvectors, stretched by the eigenvalues.

# %%
A = np.array([[2.0, 0.8], [0.8, 1.0]])
t = np.linspace(0, 2 * np.pi, 200)
circle = np.stack([np.cos(t), np.sin(t)], axis=1)
vals, vecs = linalg.eigen_axes(A)
fig, ax = plt.subplots(figsize=(4, 4))
ax.plot(*circle.T, color="0.6", label="unit circle")
ax.plot(*linalg.apply_map(A, circle).T, label="A @ circle")
for lam, v in zip(vals, vecs.T):
    ax.arrow(0, 0, *(lam * v), width=0.03, color="k")
ax.set_aspect("equal"); ax.legend(); ax.set_title(f"eigenvalues {np.round(vals, 2)}")
plt.show()

# %% [markdown]
# Matrix multiplication from scratch agrees with NumPy (the `matmul_python` exercise):

# %%
a, b = np.random.default_rng(0).standard_normal((2, 5, 5))
print(np.allclose(reference.matmul_blocked(a, b, tile=2), a @ b))

# %% [markdown]
# ## SVD compression of a photo that ships with scikit-learn
# Keeping the k largest singular values is the best rank-k approximation; the
# error falls fast because photos are nearly low-rank.

# %%
img = linalg.sample_image()[::2, ::2]
ranks = [1, 5, 10, 20, 40, 80]
errors = linalg.compression_errors(img, ranks)
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
axes[0].imshow(linalg.truncated_svd(img, 10), cmap="gray"); axes[0].set_title("rank 10")
axes[1].imshow(linalg.truncated_svd(img, 40), cmap="gray"); axes[1].set_title("rank 40")
axes[2].semilogy(ranks, errors, marker="o"); axes[2].set_title("relative error vs rank")
plt.show()

# %% [markdown]
# ## A matrix-factorization recommender
# The same idea on a ratings matrix that is mostly missing. These ratings are
# generated (a known rank-3 taste model plus noise), not real; point
# `recommender.load_movielens` at a MovieLens `u.data` or `ratings.csv` for real ones.

# %%
ratings = recommender.synthetic_ratings(150, 100, density=0.2)
train, test = ratings.split(0.2)
mf = recommender.MatrixFactorization(train.n_users, train.n_items, k=3)
history = mf.fit(train, epochs=8)
print(f"test RMSE {mf.rmse(test):.3f} vs predicting the mean "
      f"{np.sqrt(np.mean((test.values - train.values.mean()) ** 2)):.3f}")

# %% [markdown]
# ## 1.2 Gradients point uphill
# The gradient field of f(x, y) = x^2 + 3 y^2 is perpendicular to the contours.
# Gradient descent follows minus the gradient; the step size decides everything.

# %%
f = lambda p: float(p[0] ** 2 + 3 * p[1] ** 2)
grad = lambda p: np.array([2 * p[0], 6 * p[1]])
g = np.linspace(-2, 2, 60)
zz = np.array([[f(np.array([u, v])) for u in g] for v in g])
c = np.linspace(-2, 2, 9)
pts = np.array([[u, v] for v in c for u in c])
arrows = np.array([grad(p) for p in pts])
fig, ax = plt.subplots(figsize=(5, 5))
ax.contour(g, g, zz, levels=15)
ax.quiver(pts[:, 0], pts[:, 1], arrows[:, 0], arrows[:, 1], color="tab:red")
for lr in (0.05, 0.15, 0.34):
    path = calculus.gradient_descent(f, grad, np.array([1.8, 1.5]), lr, 25).path
    ax.plot(path[:, 0], path[:, 1], marker=".", label=f"lr {lr}")
ax.legend(); ax.set_aspect("equal")
plt.show()

# %%
study = calculus.step_size_study(f, grad, np.array([1.8, 1.5]), [0.01, 0.1, 0.3, 0.34], 40)
for lr, value in zip(study.lrs, study.final_values()):
    print(f"lr {lr:5}: f after 40 steps = {value:.3g}")
print("best:", study.best_lr(), "(steps above 2 / 6 = 0.333 diverge)")

# %% [markdown]
# Analytic gradients checked against central differences:

# %%
ok, err = calculus.gradient_check(lambda v: float(np.sin(v).sum()), np.cos, np.array([0.3, 1.2]))
print(ok, err)

# %% [markdown]
# ## 1.3 Distributions, Bayes, MLE and information

# %%
samples = probability.sample("gaussian", {"mu": 1.0, "sigma": 0.7}, 3000)
grid = np.linspace(-2, 4, 200)
plt.hist(samples, bins=40, density=True, alpha=0.5, label="samples")
plt.plot(grid, np.exp(probability.gaussian_logpdf(grid, 1.0, 0.7)), label="density")
plt.legend(); plt.show()
print("MLE (mu, sigma):", np.round(probability.mle_gaussian(samples), 3))

# %%
prior = np.array([0.01, 0.99])  # ill, healthy
posterior = probability.bayes_update(prior, np.array([0.9, 0.05]))  # P(positive | h)
print(f"P(ill | positive test) = {posterior[0]:.3f}")
p, q = np.array([0.5, 0.3, 0.2]), np.array([0.2, 0.3, 0.5])
print("H(p) =", probability.entropy(p), " KL(p||q) =", probability.kl_divergence(p, q))
labels = np.array([0, 0, 0, 1, 1, 1, 1, 0])
print("information gain of a split:", probability.information_gain(labels, labels == 1))
