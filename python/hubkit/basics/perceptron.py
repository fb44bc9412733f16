"""The perceptron, activation functions, a multi-layer forward pass and two losses.

The perceptron (Rosenblatt, 1958) predicts sign(w . x + b) and, for each
misclassified point, moves the line towards it: w <- w + lr y x, b <- b + lr y
(labels y in {-1, +1}). On data a line can separate it stops after finitely
many mistakes (Novikoff, 1962). Stacking linear layers without a nonlinearity
collapses to one linear map, so an MLP puts an activation between layers.
Losses: mean squared error fits regression targets (a Gaussian likelihood);
cross-entropy fits class probabilities (a categorical likelihood) and keeps
its gradient large when a confident prediction is wrong.

Shapes: X (N, D), y (N,), W (D_in, D_out), logits (N, K).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hubkit.basics.numpy_drills import one_hot, softmax_rows


@dataclass
class Perceptron:
    """sign(w . x + b), trained with the perceptron rule.

    Example:
        >>> X, y = separable_blobs(40, seed=0)
        >>> p = Perceptron(2).fit(X, y)
        >>> bool((p.predict(X) == y).all())
        True
    """

    dim: int
    lr: float = 1.0
    w: np.ndarray = field(init=False)
    b: float = field(init=False, default=0.0)
    mistakes: list[int] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.w = np.zeros(self.dim)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """(N,) labels in {-1, +1} (a point on the line counts as +1)."""
        return np.where(X @ self.w + self.b >= 0, 1, -1)

    def fit(self, X: np.ndarray, y: np.ndarray, epochs: int = 100) -> Perceptron:
        """Sweep the data until an epoch makes no mistake (or `epochs` run out)."""
        if set(np.unique(y)) - {-1, 1}:
            raise ValueError("y: expected labels in {-1, +1}")
        for _ in range(epochs):
            n_wrong = 0
            for xi, yi in zip(X, y, strict=True):
                if yi * (xi @ self.w + self.b) <= 0:  # subtle: <= so the all-zero start updates
                    self.w += self.lr * yi * xi
                    self.b += self.lr * yi
                    n_wrong += 1
            self.mistakes.append(n_wrong)
            if n_wrong == 0:
                break
        return self


def separable_blobs(n: int, seed: int = 0, margin: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(N, 2) points and labels in {-1, +1} on either side of a random line, >= margin away."""
    rng = np.random.default_rng(seed)
    normal = rng.standard_normal(2)
    normal /= np.linalg.norm(normal)
    X = rng.uniform(-3, 3, (4 * n, 2))
    dist = X @ normal
    keep = np.abs(dist) >= margin
    X = X[keep][:n]
    return X, np.where(X @ normal > 0, 1, -1)


# --- activations: value and derivative with respect to the input
def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), written as (1 + tanh(z / 2)) / 2 so no exp overflows."""
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(z, dtype=np.float64)))


ACTIVATIONS = {
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (np.asarray(z) > 0).astype(np.float64)),
    "identity": (lambda z: np.asarray(z, dtype=np.float64), lambda z: np.ones_like(z, float)),
}


def activation(name: str, z: np.ndarray) -> np.ndarray:
    """Apply "sigmoid", "tanh", "relu" or "identity"."""
    if name not in ACTIVATIONS:
        raise ValueError(f"name: expected one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name][0](z)


def mlp_forward(x: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray],
                act: str = "relu") -> np.ndarray:
    """h <- act(h W + b) for every layer but the last, which stays linear (logits).

    Example:
        >>> W = [np.eye(2), np.ones((2, 1))]; b = [np.array([-1.0, 0.0]), np.zeros(1)]
        >>> mlp_forward(np.array([[3.0, -2.0]]), W, b)  # relu([2, -2]) = [2, 0] -> 2
        array([[2.]])
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"biases: expected one per weight ({len(weights)}), got {len(biases)}")
    h = np.asarray(x, dtype=np.float64)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w + b  # (N, D_in) @ (D_in, D_out) + (D_out,)
        if i < len(weights) - 1:
            h = activation(act, h)
    return h


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error."""
    return float(np.mean((np.asarray(pred) - np.asarray(target)) ** 2))


def cross_entropy_logits(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean -log softmax(logits)[label], via log-sum-exp so large logits stay finite.

    Example:
        >>> round(cross_entropy_logits(np.array([[0.0, 0.0]]), np.array([1])), 4)
        0.6931
    """
    z = np.asarray(logits, dtype=np.float64)
    zmax = z.max(axis=1, keepdims=True)
    lse = zmax[:, 0] + np.log(np.exp(z - zmax).sum(axis=1))
    return float(np.mean(lse - z[np.arange(len(z)), labels]))


def loss_gradients_when_wrong(confidence: np.ndarray) -> dict[str, np.ndarray]:
    """|d loss / d logit| for a sigmoid output that puts `confidence` on the wrong class.

    MSE on the probability: 2 (p - 0) p (1 - p), which vanishes as p -> 1 (saturation);
    cross-entropy: p - 0, which stays near 1. This is why classifiers use cross-entropy.
    """
    p = np.asarray(confidence, dtype=np.float64)
    return {"mse": 2 * p * p * (1 - p), "cross_entropy": p}


def fit_softmax_regression(X: np.ndarray, y: np.ndarray, k: int, loss: str, lr: float = 0.5,
                           steps: int = 300) -> np.ndarray:
    """Train a linear classifier on softmax outputs with "mse" or "cross_entropy"; (D+1, K)."""
    Xb = np.hstack([X, np.ones((len(X), 1))])
    W, t = np.zeros((Xb.shape[1], k)), one_hot(y, k)
    for _ in range(steps):
        p = softmax_rows(Xb @ W)  # (N, K)
        if loss == "cross_entropy":
            g = p - t
        elif loss == "mse":  # d/dz of mean |p - t|^2 through the softmax Jacobian
            d = 2 * (p - t)
            g = p * (d - (d * p).sum(axis=1, keepdims=True))
        else:
            raise ValueError(f"loss: expected mse or cross_entropy, got {loss!r}")
        W -= lr * Xb.T @ g / len(X)
    return W


def plot_decision_boundary(p: Perceptron, X: np.ndarray, y: np.ndarray,
                           path: str | Path) -> Path:
    """The points coloured by label, the learned line w . x + b = 0 and its half-planes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([u.ravel(), v.ravel()], axis=1)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contourf(u, v, p.predict(grid).reshape(u.shape), alpha=0.15, cmap="coolwarm")
    ax.contour(u, v, (grid @ p.w + p.b).reshape(u.shape), levels=[0], colors="k")
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=20)
    ax.set_title(f"perceptron: {sum(p.mistakes)} updates in {len(p.mistakes)} epochs")
    out = Path(path)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
