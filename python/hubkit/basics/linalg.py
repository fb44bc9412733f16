"""Linear algebra as geometry: linear maps in 2D, eigendecomposition, truncated SVD.

A matrix A is a linear map: it sends every point x to A x, so it is known by
where it sends the basis vectors (its columns). A symmetric matrix has an
orthonormal basis of eigenvectors (the spectral theorem): in that basis the map
only stretches each axis by its eigenvalue, so A = Q diag(lambda) Q^T turns a
unit circle into an ellipse whose axes are the eigenvectors and whose
half-lengths are |lambda|. The SVD A = U diag(s) V^T does the same for any
matrix with two bases; keeping the k largest singular values gives the best
rank-k approximation in Frobenius norm (Eckart & Young, 1936), with squared
error the sum of the dropped s_i^2.

Shapes: points are (N, 2) rows; A is (2, 2); X is (M, N).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def apply_map(a: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Send each row point p to A p.

    Args:
        a: (D, D) matrix.
        points: (N, D) points, one per row.

    Returns:
        (N, D) mapped points: points @ A^T.

    Example:
        >>> import numpy as np
        >>> apply_map(np.array([[0.0, -1.0], [1.0, 0.0]]), np.array([[1.0, 0.0]]))  # 90 deg turn
        array([[0., 1.]])
    """
    a, points = np.asarray(a, dtype=np.float64), np.asarray(points, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"a: expected a square matrix, got shape {a.shape}")
    if points.ndim != 2 or points.shape[1] != a.shape[0]:
        raise ValueError(f"points: expected (N, {a.shape[0]}), got shape {points.shape}")
    return points @ a.T  # (N, D) @ (D, D): row p becomes (A p)^T


def eigen_axes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and unit eigenvectors (columns) of a symmetric matrix.

    The sign of each eigenvector is fixed so its largest-magnitude entry is positive,
    which makes the answer unique when the eigenvalues are distinct.

    Example:
        >>> import numpy as np
        >>> vals, vecs = eigen_axes(np.array([[2.0, 1.0], [1.0, 2.0]]))
        >>> vals.round(6).tolist(), np.abs(vecs).round(4).tolist()
        ([3.0, 1.0], [[0.7071, 0.7071], [0.7071, 0.7071]])
    """
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not np.allclose(a, a.T):
        raise ValueError(f"a: expected a symmetric square matrix, got shape {a.shape}")
    vals, vecs = np.linalg.eigh(a)  # ascending
    vals, vecs = vals[::-1], vecs[:, ::-1]
    pivot = np.abs(vecs).argmax(axis=0)
    signs = np.sign(vecs[pivot, np.arange(vecs.shape[1])])
    return vals, vecs * signs


def power_iteration(a: np.ndarray, steps: int = 100, seed: int = 0) -> tuple[float, np.ndarray]:
    """The dominant eigenpair by repeated multiplication: v <- A v / |A v|.

    Each product stretches v most along the eigenvector of largest |lambda|, so v
    turns towards it at rate |lambda_2 / lambda_1| per step.

    Example:
        >>> import numpy as np
        >>> lam, v = power_iteration(np.array([[2.0, 1.0], [1.0, 2.0]]))
        >>> round(lam, 6)
        3.0
    """
    a = np.asarray(a, dtype=np.float64)
    v = np.random.default_rng(seed).standard_normal(a.shape[0])
    for _ in range(steps):
        w = a @ v
        v = w / np.linalg.norm(w)
    return float(v @ a @ v), v


def truncated_svd(x: np.ndarray, k: int) -> np.ndarray:
    """The best rank-k approximation of x: U[:, :k] diag(s[:k]) V[:k]^T.

    Args:
        x: (M, N) matrix.
        k: rank kept, 1 <= k <= min(M, N).

    Returns:
        (M, N) float64 approximation.

    Example:
        >>> import numpy as np
        >>> x = np.outer([1.0, 2.0], [3.0, 4.0]) + np.diag([0.0, 0.1])
        >>> float(np.linalg.matrix_rank(truncated_svd(x, 1)))
        1.0
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"x: expected a matrix, got shape {x.shape}")
    if not 1 <= k <= min(x.shape):
        raise ValueError(f"k: expected 1 <= k <= {min(x.shape)}, got {k!r}")
    u, s, vt = np.linalg.svd(x, full_matrices=False)  # (M, R), (R,), (R, N)
    return (u[:, :k] * s[:k]) @ vt[:k]


def sample_image(gray: bool = True) -> np.ndarray:
    """scikit-learn's shipped photo "china.jpg" as float64 in [0, 1]: (H, W) or (H, W, 3)."""
    from sklearn.datasets import load_sample_image

    img = load_sample_image("china.jpg").astype(np.float64) / 255.0
    return img.mean(axis=2) if gray else img


def compression_errors(img: np.ndarray, ranks: list[int]) -> np.ndarray:
    """Relative Frobenius error |X - X_k| / |X| of a rank-k SVD of a (H, W) image, per k.

    One SVD serves every rank: the squared error of rank k is sum(s[k:]^2).

    Example:
        >>> import numpy as np
        >>> compression_errors(np.eye(4), [1, 4]).round(4).tolist()
        [0.866, 0.0]
    """
    s = np.linalg.svd(np.asarray(img, dtype=np.float64), compute_uv=False)
    total = float((s ** 2).sum())
    return np.array([np.sqrt((s[k:] ** 2).sum() / total) for k in ranks])


def compression_ratio(shape: tuple[int, int], k: int) -> float:
    """Numbers stored by a rank-k factorization (k (H + W + 1)) over H W."""
    h, w = shape
    return k * (h + w + 1) / (h * w)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_linear_map(a: np.ndarray, path: str | Path, n: int = 9) -> Path:
    """Draw a grid and a unit circle before (grey) and after (colour) the map A; save a PNG.

    For a symmetric A the eigenvectors are drawn too, scaled by their eigenvalues:
    the circle's image is an ellipse with exactly those axes.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5))
    ticks = np.linspace(-1, 1, n)
    t = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(t), np.sin(t)], axis=1)
    for c in ticks:
        line = np.stack([np.full(50, c), np.linspace(-1, 1, 50)], axis=1)
        for pts in (line, line[:, ::-1]):
            ax.plot(*pts.T, color="0.85", lw=0.6)
            ax.plot(*apply_map(a, pts).T, color="tab:blue", lw=0.6)
    ax.plot(*circle.T, color="0.6")
    ax.plot(*apply_map(a, circle).T, color="tab:red", lw=2, label="image of the unit circle")
    if np.allclose(a, np.asarray(a).T):
        vals, vecs = eigen_axes(a)
        for lam, v in zip(vals, vecs.T, strict=True):
            ax.arrow(0, 0, *(lam * v), width=0.02, color="k", length_includes_head=True)
    ax.set_aspect("equal")
    ax.set_title(f"x -> A x, A = {np.round(a, 2).tolist()}")
    ax.legend(loc="lower right")
    out = Path(path)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out


def plot_compression(img: np.ndarray, ranks: list[int], path: str | Path) -> Path:
    """The image at a few ranks and the error-vs-rank curve, in one PNG."""
    plt = _pyplot()
    shown = ranks[:3]
    fig, axes = plt.subplots(1, len(shown) + 1, figsize=(4 * (len(shown) + 1), 3.5))
    for ax, k in zip(axes, shown, strict=False):
        ax.imshow(truncated_svd(img, k), cmap="gray")
        ax.set_title(f"rank {k} ({compression_ratio(img.shape, k):.1%} of the numbers)")
        ax.axis("off")
    axes[-1].plot(ranks, compression_errors(img, ranks), marker="o")
    axes[-1].set(xlabel="rank k", ylabel="relative error |X - X_k| / |X|", yscale="log",
                 title="SVD compression error")
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=80)
    plt.close(fig)
    return out
