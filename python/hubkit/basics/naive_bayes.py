"""Gaussian Naive Bayes from scratch, and its comparison with scikit-learn's.

Naive Bayes assumes the features are independent given the class, so
log P(c | x) = log P(c) + sum_d log N(x_d; mu_cd, sigma_cd^2) + const.
Fitting is maximum likelihood per class and feature (means and divide-by-N
variances, see hubkit.basics.probability); predicting takes the arg max.
Like scikit-learn's GaussianNB, a small epsilon (var_smoothing times the
largest feature variance) is added to every variance so a constant feature
cannot divide by zero.

Shapes: X (N, D), y (N,) integer classes; C classes.
"""

from __future__ import annotations

import numpy as np

from hubkit.basics.probability import LOG_2PI


class GaussianNaiveBayes:
    """Per-class Gaussian features, fitted by maximum likelihood.

    Example:
        >>> import numpy as np
        >>> X = np.array([[0.0], [0.2], [5.0], [5.2]]); y = np.array([0, 0, 1, 1])
        >>> GaussianNaiveBayes().fit(X, y).predict(np.array([[0.1], [4.9]])).tolist()
        [0, 1]
    """

    def __init__(self, var_smoothing: float = 1e-9):
        self.var_smoothing = var_smoothing

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianNaiveBayes:
        X, y = np.asarray(X, dtype=np.float64), np.asarray(y)
        if X.ndim != 2 or len(X) != len(y):
            raise ValueError(f"X: expected (N, D) rows matching y's {len(y)}, got {X.shape}")
        self.classes = np.unique(y)
        eps = self.var_smoothing * X.var(axis=0).max()
        self.means = np.stack([X[y == c].mean(axis=0) for c in self.classes])  # (C, D)
        self.vars = np.stack([X[y == c].var(axis=0) for c in self.classes]) + eps
        self.log_prior = np.log([np.mean(y == c) for c in self.classes])  # (C,)
        return self

    def joint_log_likelihood(self, X: np.ndarray) -> np.ndarray:
        """(N, C) log P(c) + log P(x | c)."""
        X = np.asarray(X, dtype=np.float64)[:, None, :]  # (N, 1, D)
        ll = -0.5 * ((X - self.means) ** 2 / self.vars + np.log(self.vars) + LOG_2PI)
        return self.log_prior + ll.sum(axis=2)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """(N, C) posterior class probabilities (a stable softmax of the joint)."""
        jll = self.joint_log_likelihood(X)
        jll -= jll.max(axis=1, keepdims=True)
        p = np.exp(jll)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes[self.joint_log_likelihood(X).argmax(axis=1)]


def compare_with_sklearn(dataset: str = "wine", seed: int = 0) -> dict[str, float]:
    """Fit ours and sklearn's GaussianNB on a shipped dataset; accuracies and agreement.

    dataset: "wine", "iris" or "breast_cancer" (all ship inside scikit-learn).
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split
    from sklearn.naive_bayes import GaussianNB

    loaders = {"wine": datasets.load_wine, "iris": datasets.load_iris,
               "breast_cancer": datasets.load_breast_cancer}
    if dataset not in loaders:
        raise ValueError(f"dataset: expected one of {sorted(loaders)}, got {dataset!r}")
    X, y = loaders[dataset](return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    ours = GaussianNaiveBayes().fit(Xtr, ytr)
    theirs = GaussianNB().fit(Xtr, ytr)
    return {"ours_accuracy": float(np.mean(ours.predict(Xte) == yte)),
            "sklearn_accuracy": float(theirs.score(Xte, yte)),
            "agreement": float(np.mean(ours.predict(Xte) == theirs.predict(Xte))),
            "max_proba_diff": float(np.abs(ours.predict_proba(Xte)
                                           - theirs.predict_proba(Xte)).max())}
