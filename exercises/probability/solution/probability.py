"""Distributions, Bayes, maximum likelihood and information (exercise probability).

Natural logarithms throughout (nats). Shapes: x (N,) samples; p, q, prior,
likelihood (K,) vectors; labels (N,) integers; goes_left (N,) booleans.
"""

import numpy as np


def gaussian_log_likelihood(x, mu, sigma):
    """sum over n of log N(x_n; mu, sigma^2), a float."""
    # BEGIN SOLUTION
    z = (np.asarray(x, dtype=np.float64) - mu) / sigma
    return float(np.sum(-0.5 * z ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)))
    # END SOLUTION


def bayes_update(prior, likelihood):
    """The posterior P(h | evidence) over K hypotheses, from P(h) and P(evidence | h)."""
    # BEGIN SOLUTION
    joint = np.asarray(prior, dtype=np.float64) * np.asarray(likelihood, dtype=np.float64)
    return joint / joint.sum()
    # END SOLUTION


def mle_gaussian(x):
    """(mu, sigma) that maximize the Gaussian likelihood of the samples x."""
    # BEGIN SOLUTION
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std())
    # END SOLUTION


def entropy(p):
    """H(p) = -sum p log p in nats (0 log 0 = 0)."""
    # BEGIN SOLUTION
    p = np.asarray(p, dtype=np.float64)
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum())
    # END SOLUTION


def kl_divergence(p, q):
    """KL(p || q) = sum p log(p / q) in nats (terms with p = 0 count 0)."""
    # BEGIN SOLUTION
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    m = p > 0
    return float((p[m] * np.log(p[m] / q[m])).sum())
    # END SOLUTION


def information_gain(labels, goes_left):
    """Entropy of the labels minus the size-weighted entropy of the two sides of a split."""
    # BEGIN SOLUTION
    labels, goes_left = np.asarray(labels), np.asarray(goes_left, dtype=bool)

    def h(y):
        return entropy(np.bincount(y) / len(y)) if len(y) else 0.0
    left, right = labels[goes_left], labels[~goes_left]
    return h(labels) - len(left) / len(labels) * h(left) - len(right) / len(labels) * h(right)
    # END SOLUTION
