"""Checker spec for probability: each function against scipy.stats (the outside oracle).

Samples, distributions and splits are drawn from the run's seed.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _rng(ctx: CheckContext) -> np.random.Generator:
    return np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))


def _expect(got, want, what: str, hint: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.allclose(got, want, rtol=1e-9, atol=1e-12):
        raise CheckFailure(f"{what}: got {np.round(got, 6).tolist()}, expected "
                           f"{np.round(want, 6).tolist()}: {hint}")


def _simplex(rng: np.random.Generator, k: int, zeros: bool = False) -> np.ndarray:
    p = rng.random(k) + 0.05
    if zeros:
        p[rng.integers(k)] = 0.0
    return p / p.sum()


def _check_gaussian(learner, ctx, rng) -> None:
    from scipy import stats

    mu, sigma = float(rng.normal()), float(rng.uniform(0.3, 3.0))
    x = rng.normal(mu, sigma, 50)
    with ctx.guard():
        got = learner.gaussian_log_likelihood(x, mu, sigma)
    _expect(got, stats.norm.logpdf(x, mu, sigma).sum(), "gaussian_log_likelihood",
            "sum the log-density -(x - mu)^2 / (2 sigma^2) - log(sigma) - log(2 pi) / 2")
    with ctx.guard():
        m, s = learner.mle_gaussian(x)
    want_m, want_s = stats.norm.fit(x)  # scipy's fit is the maximum-likelihood estimate
    _expect(m, want_m, "mle_gaussian's mu", "the maximum-likelihood mean is the sample mean")
    _expect(s, want_s, "mle_gaussian's sigma",
            "the maximum-likelihood variance divides by N, not N - 1")
    # subtle: checked numerically too: nudging either parameter must not raise the likelihood
    ll = stats.norm.logpdf(x, m, s).sum()
    for dm, ds in ((1e-4, 0), (-1e-4, 0), (0, 1e-4), (0, -1e-4)):
        if stats.norm.logpdf(x, m + dm, s + ds).sum() > ll + 1e-9:
            raise CheckFailure("mle_gaussian does not maximize the log-likelihood")


def _check_bayes(learner, ctx, rng) -> None:
    prior, lik = _simplex(rng, 4), rng.random(4)
    with ctx.guard():
        post = learner.bayes_update(prior, lik)
    _expect(post, prior * lik / (prior * lik).sum(), "bayes_update",
            "multiply prior by likelihood, then normalize so the posterior values sum to 1")


def _check_information(learner, ctx, rng) -> None:
    from scipy import stats

    for k in (2, 5):
        p, q = _simplex(rng, k, zeros=k > 2), _simplex(rng, k)
        with ctx.guard():
            h, kl = learner.entropy(p), learner.kl_divergence(p, q)
        _expect(h, stats.entropy(p), f"entropy of {k} outcomes",
                "use the natural log (nats) and skip zero probabilities")
        _expect(kl, stats.entropy(p, q), f"KL(p || q) over {k} outcomes",
                "KL(p || q) = sum p log(p / q), weighted by p (it is not symmetric)")
    labels = rng.integers(0, 3, 40)
    left = rng.random(40) < 0.4
    counts = [np.bincount(y, minlength=3) for y in (labels, labels[left], labels[~left])]
    want = stats.entropy(counts[0]) - sum(c.sum() / 40 * stats.entropy(c) for c in counts[1:])
    with ctx.guard():
        got = learner.information_gain(labels, left)
    _expect(got, want, "information_gain", "H(labels) - sum over sides of (n_side / n) "
            "H(side labels)")


def check(learner, ctx: CheckContext) -> None:
    rng = _rng(ctx)
    _check_gaussian(learner, ctx, rng)
    _check_bayes(learner, ctx, rng)
    _check_information(learner, ctx, rng)
    ctx.note("likelihoods, posterior, MLE, entropy, KL and information gain match scipy")


SPEC = CustomSpec(check=check)
