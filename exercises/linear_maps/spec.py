"""Checker spec for linear_maps: maps, eigen-axes and truncated SVD against hubkit.basics.linalg.

Matrices are drawn from the run's seed; symmetric ones get well-separated
eigenvalues and the SVD inputs distinct singular values, so every answer is unique.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.basics.linalg import apply_map, eigen_axes, truncated_svd
from hubkit.check import CheckContext, CheckFailure, CustomSpec


def _rng(ctx: CheckContext) -> np.random.Generator:
    return np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))


def _close(got, want, what: str, hint: str) -> None:
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        raise CheckFailure(f"{what}: shape {got.shape}, expected {want.shape}")
    err = float(np.max(np.abs(got - want), initial=0.0))
    if not err <= 1e-8 * (1 + float(np.abs(want).max())):
        raise CheckFailure(f"{what}: max error {err:.3g} against the reference: {hint}")


def _symmetric(rng: np.random.Generator, d: int) -> np.ndarray:
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    vals = rng.permutation(np.linspace(-3, 4, d))  # distinct, mixed signs
    return (q * vals) @ q.T


def check(learner, ctx: CheckContext) -> None:
    rng = _rng(ctx)
    for d in (2, 3) if ctx.fast else (2, 3, 5):
        a, pts = rng.standard_normal((d, d)), rng.standard_normal((7, d))
        with ctx.guard():
            got = learner.apply_map(a, pts)
        _close(got, apply_map(a, pts), f"apply_map with a {d}x{d} matrix",
               "each row p must become A p, i.e. points @ A.T (points @ A applies A transposed)")
        s = _symmetric(rng, d)
        with ctx.guard():
            vals, vecs = learner.eigen_axes(s)
        want_vals, want_vecs = eigen_axes(s)
        _close(vals, want_vals, f"eigen_axes eigenvalues ({d}x{d})",
               "return the eigenvalues largest first (eigh gives them ascending)")
        _close(vecs, want_vecs, f"eigen_axes eigenvectors ({d}x{d})",
               "eigenvectors are the columns, in the order of the eigenvalues, each with its "
               "largest-magnitude entry positive")
    for m, n, k in ((6, 4, 2), (5, 9, 3)) if ctx.fast else ((6, 4, 2), (5, 9, 3), (12, 7, 1)):
        x = rng.standard_normal((m, n))
        with ctx.guard():
            got = learner.low_rank(x, k)
        want = truncated_svd(x, k)
        got = np.asarray(got, dtype=np.float64)
        if got.shape == want.shape and np.linalg.matrix_rank(got, tol=1e-8) == k and \
                np.linalg.norm(x - got) > np.linalg.norm(x - want) * (1 + 1e-6):
            raise CheckFailure(f"low_rank(x {m}x{n}, k={k}) has rank {k} but not the smallest "
                               "error: keep the largest k singular values (svd sorts them "
                               "largest first)")
        _close(got, want, f"low_rank(x {m}x{n}, k={k})",
               "rebuild with the singular values: (u[:, :k] * s[:k]) @ vt[:k]")
    ctx.note("maps, eigen-axes and rank-k approximations match the reference")


SPEC = CustomSpec(check=check)
