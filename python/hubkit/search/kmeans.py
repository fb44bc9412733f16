"""k-means (Lloyd's algorithm): the coarse quantizer of an IVF index.

Assignment is to the nearest centroid in L2. Since
||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2 and ||x||^2 is the same for every c,
the nearest centroid is the one with the largest x.c - ||c||^2 / 2: an inner
product search, so `hubkit.ops.topk_similarity` does it on [x, 1] . [c, -||c||^2/2]
without an (N, C) distance matrix.

Shapes: x (N, D) points, centroids (C, D).
"""

from __future__ import annotations

import torch

from hubkit.search.ops import topk_similarity


def _augment_points(x: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, D+1): [x, 1]."""
    return torch.cat([x, x.new_ones(x.shape[0], 1)], 1)


def _augment_centroids(centroids: torch.Tensor) -> torch.Tensor:
    """(C, D) -> (C, D+1): [c, -||c||^2 / 2]."""
    return torch.cat([centroids, -0.5 * (centroids * centroids).sum(1, keepdim=True)], 1)


def nearest_centroids(x: torch.Tensor, centroids: torch.Tensor, n: int = 1) -> torch.Tensor:
    """The n nearest centroids (L2) of each row of x, nearest first: (N, n) int64.

    Equal distances list the lower centroid index first. float32 goes through
    `topk_similarity` (no (N, C) matrix); other dtypes (the float64 of a spec or a
    checker) through the plain (N, C) expansion and a stable sort, in torch ops.

    Example:
        >>> c = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
        >>> nearest_centroids(torch.tensor([[9.0, 1.0], [1.0, 1.0]]), c)[:, 0]
        tensor([1, 0])
    """
    if x.dtype != torch.float32:
        scores = _augment_points(x) @ _augment_centroids(centroids).T  # (N, C)
        return torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :n]
    return topk_similarity(_augment_points(x), _augment_centroids(centroids), n)[1]


def _init(x: torch.Tensor, c: int, gen: torch.Generator) -> torch.Tensor:
    """c distinct points of x, drawn at random (as faiss does)."""
    return x[torch.randperm(x.shape[0], generator=gen)[:c]].clone()


def _update(x: torch.Tensor, labels: torch.Tensor, centroids: torch.Tensor,
            gen: torch.Generator) -> torch.Tensor:
    """New centroids: the mean of each cluster; an empty cluster gets a random point."""
    c = centroids.shape[0]
    sums = torch.zeros_like(centroids).index_add_(0, labels, x)
    counts = torch.bincount(labels, minlength=c)
    new = sums / counts.clamp_min(1).unsqueeze(1).to(x.dtype)
    empty = (counts == 0).nonzero().flatten()
    if len(empty):
        new[empty] = x[torch.randint(x.shape[0], (len(empty),), generator=gen)]
    return new


def kmeans(x: torch.Tensor, c: int, iters: int = 10, seed: int = 0) -> torch.Tensor:
    """c centroids of the points x after `iters` rounds of assign-then-average.

    Args:
        x: (N, D) float32 points, N >= c.
        c: number of clusters.
        iters: Lloyd iterations.
        seed: seeds the initial pick and the re-seeding of empty clusters.

    Returns:
        (c, D) centroids.

    Example:
        >>> x = torch.cat([torch.zeros(5, 2), torch.full((5, 2), 9.0)])
        >>> sorted(kmeans(x, 2).sum(1).tolist())
        [0.0, 18.0]
    """
    if x.shape[0] < c:
        raise ValueError(f"x: k-means with {c} clusters needs at least {c} points, "
                         f"got {x.shape[0]}")
    gen = torch.Generator().manual_seed(seed)
    centroids = _init(x, c, gen)
    for _ in range(iters):
        centroids = _update(x, nearest_centroids(x, centroids)[:, 0], centroids, gen)
    return centroids
