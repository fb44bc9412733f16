"""Probability for machine learning: three distributions, Bayes, MLE and information.

- Gaussian N(mu, sigma^2): log p(x) = -(x - mu)^2 / (2 sigma^2) - log(sigma) - log(2 pi) / 2
- Bernoulli(p): log p(x) = x log p + (1 - x) log(1 - p), x in {0, 1}
- Categorical(pi): log p(x = k) = log pi_k
Maximum likelihood: setting d/dtheta sum_n log p(x_n) = 0 gives the sample mean and
the *biased* (divide by N) variance for a Gaussian, the fraction of ones for a
Bernoulli and the class frequencies for a Categorical.
Bayes: posterior is proportional to likelihood times prior, normalized to sum to 1.
Information (Shannon, 1948; natural log, so in nats): entropy H(p) = -sum p log p,
cross-entropy H(p, q) = -sum p log q, KL(p || q) = H(p, q) - H(p) >= 0, and the
information gain of a split = H(parent) - sum_j (n_j / n) H(child_j).

Shapes: x is (N,) samples; p, q are (K,) probability vectors (or (..., K) batches).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

LOG_2PI = float(np.log(2 * np.pi))


def gaussian_logpdf(x: np.ndarray, mu: float, sigma: float) -> np.ndarray:
    """log N(x; mu, sigma^2), elementwise.

    Example:
        >>> round(float(gaussian_logpdf(0.0, 0.0, 1.0)), 6)
        -0.918939
    """
    if not sigma > 0:
        raise ValueError(f"sigma: expected > 0, got {sigma!r}")
    z = (np.asarray(x, dtype=np.float64) - mu) / sigma
    return -0.5 * z ** 2 - np.log(sigma) - 0.5 * LOG_2PI


def bernoulli_logpmf(x: np.ndarray, p: float) -> np.ndarray:
    """log P(x) for x in {0, 1} under Bernoulli(p).

    Example:
        >>> bernoulli_logpmf([1, 0], 0.5).round(4).tolist()
        [-0.6931, -0.6931]
    """
    if not 0 <= p <= 1:
        raise ValueError(f"p: expected a probability in [0, 1], got {p!r}")
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(x == 1, np.log(p), np.log1p(-p))


def categorical_logpmf(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """log pi_x for integer classes x under Categorical(probs)."""
    probs = _probability_vector(probs, "probs")
    with np.errstate(divide="ignore"):
        return np.log(probs)[np.asarray(x, dtype=np.int64)]


def sample(dist: str, params: dict, n: int, seed: int = 0) -> np.ndarray:
    """n draws from "gaussian" (mu, sigma), "bernoulli" (p) or "categorical" (probs).

    Example:
        >>> sample("bernoulli", {"p": 1.0}, 3).tolist()
        [1, 1, 1]
    """
    rng = np.random.default_rng(seed)
    if dist == "gaussian":
        return params["mu"] + params["sigma"] * rng.standard_normal(n)
    if dist == "bernoulli":
        return (rng.random(n) < params["p"]).astype(np.int64)
    if dist == "categorical":
        cdf = np.cumsum(_probability_vector(params["probs"], "probs"))
        # subtle: inverse-CDF sampling; the clip guards against cdf[-1] rounding to 0.9999...
        return np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(cdf) - 1)
    raise ValueError(f"dist: expected gaussian, bernoulli or categorical, got {dist!r}")


def mle_gaussian(x: np.ndarray) -> tuple[float, float]:
    """(mu, sigma) maximizing the Gaussian likelihood: the mean and the divide-by-N std.

    Example:
        >>> mle_gaussian(np.array([1.0, 3.0]))
        (2.0, 1.0)
    """
    x = np.asarray(x, dtype=np.float64)
    mu = float(x.mean())
    return mu, float(np.sqrt(np.mean((x - mu) ** 2)))


def mle_bernoulli(x: np.ndarray) -> float:
    """The fraction of ones."""
    return float(np.mean(np.asarray(x, dtype=np.float64)))


def mle_categorical(x: np.ndarray, k: int) -> np.ndarray:
    """(k,) class frequencies."""
    return np.bincount(np.asarray(x, dtype=np.int64), minlength=k) / len(x)


def bayes_update(prior: np.ndarray, likelihood: np.ndarray) -> np.ndarray:
    """Posterior over hypotheses: prior * likelihood, normalized.

    Args:
        prior: (K,) P(h).
        likelihood: (K,) P(evidence | h).

    Example:
        >>> # a test 90% sensitive, 95% specific, 1% prevalence: P(ill | positive)
        >>> round(float(bayes_update(np.array([0.01, 0.99]), np.array([0.9, 0.05]))[0]), 4)
        0.1538
    """
    prior = _probability_vector(prior, "prior")
    joint = prior * np.asarray(likelihood, dtype=np.float64)
    total = joint.sum()
    if not total > 0:
        raise ValueError("likelihood: the evidence has probability 0 under every hypothesis")
    return joint / total


def _probability_vector(p: np.ndarray, name: str) -> np.ndarray:
    p = np.asarray(p, dtype=np.float64)
    if (p < 0).any() or not np.allclose(p.sum(axis=-1), 1.0, atol=1e-6):
        raise ValueError(f"{name}: expected non-negative probabilities summing to 1")
    return p


def entropy(p: np.ndarray) -> np.ndarray:
    """H(p) = -sum p log p in nats, with 0 log 0 = 0 (over the last axis).

    Example:
        >>> round(float(entropy([0.5, 0.5])), 6)
        0.693147
    """
    p = _probability_vector(p, "p")
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log(safe)).sum(axis=-1)


def cross_entropy(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """H(p, q) = -sum p log q in nats (inf where q = 0 < p)."""
    p, q = _probability_vector(p, "p"), _probability_vector(q, "q")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(q), 0.0)
    return terms.sum(axis=-1)


def kl_divergence(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """KL(p || q) = H(p, q) - H(p) >= 0; zero only when p == q.

    Example:
        >>> round(float(kl_divergence([0.5, 0.5], [0.9, 0.1])), 4)
        0.5108
    """
    return cross_entropy(p, q) - entropy(p)


def label_entropy(labels: np.ndarray) -> float:
    """Entropy of the empirical distribution of integer labels."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64))
    return float(entropy(counts / counts.sum()))


def information_gain(labels: np.ndarray, goes_left: np.ndarray) -> float:
    """H(labels) minus the size-weighted entropy of the two sides of a split.

    Example:
        >>> information_gain(np.array([0, 0, 1, 1]), np.array([True, True, False, False])) > 0.69
        True
    """
    labels, goes_left = np.asarray(labels), np.asarray(goes_left, dtype=bool)
    if labels.shape != goes_left.shape:
        raise ValueError(f"goes_left: expected shape {labels.shape}, got {goes_left.shape}")
    h = label_entropy(labels)
    for side in (labels[goes_left], labels[~goes_left]):
        if len(side):
            h -= len(side) / len(labels) * label_entropy(side)
    return h


def plot_distributions(path: str | Path, seed: int = 0) -> Path:
    """Gaussian, Bernoulli and Categorical: a histogram of samples over the exact law."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.2))
    xs = sample("gaussian", {"mu": 1.0, "sigma": 0.7}, 2000, seed)
    grid = np.linspace(-2, 4, 200)
    axes[0].hist(xs, bins=40, density=True, alpha=0.5, label="2000 samples")
    axes[0].plot(grid, np.exp(gaussian_logpdf(grid, 1.0, 0.7)), label="N(1, 0.7^2)")
    for ax, (name, params, k) in zip(axes[1:], [("bernoulli", {"p": 0.3}, 2),
                                                 ("categorical", {"probs": [0.1, 0.2, 0.4, 0.3]},
                                                  4)], strict=True):
        freq = mle_categorical(sample(name, params, 2000, seed), k)
        exact = [1 - params["p"], params["p"]] if name == "bernoulli" else params["probs"]
        ax.bar(np.arange(k) - 0.2, freq, width=0.4, label="sample frequency")
        ax.bar(np.arange(k) + 0.2, exact, width=0.4, label="probability")
        ax.set_title(name)
    axes[0].set_title("gaussian")
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
