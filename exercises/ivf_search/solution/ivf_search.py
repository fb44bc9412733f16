"""IVF search in PyTorch: put each key in the list of its nearest centroid, then search
only the lists nearest each query.

Shapes: Q queries, N keys, C centroids (lists), D dims. Distances are squared L2;
scores are inner products. Ties: equal distances pick the lower centroid index,
equal scores list the lower key row first.
"""

from __future__ import annotations

import torch


def squared_distances(x: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(N, D), (C, D) -> (N, C): |x - c|^2 = |x|^2 - 2 x.c + |c|^2."""
    # BEGIN SOLUTION
    # starter> # Expand the square: one (N, C) matrix product plus the two squared norms.
    # starter> raise NotImplementedError("not implemented yet")
    return (x * x).sum(1, keepdim=True) - 2 * x @ centroids.T + (centroids * centroids).sum(1)
    # END SOLUTION


def assign(keys: torch.Tensor, centroids: torch.Tensor) -> torch.Tensor:
    """(N,) int64: the list of each key, its nearest centroid (the lower index on ties)."""
    # BEGIN SOLUTION
    # starter> # The column of the smallest squared distance in each row.
    # starter> raise NotImplementedError("not implemented yet")
    return squared_distances(keys, centroids).argmin(dim=1)  # argmin keeps the first minimum
    # END SOLUTION


def ivf_search(queries: torch.Tensor, centroids: torch.Tensor, keys: torch.Tensor,
               assignment: torch.Tensor, nprobe: int, k: int):
    """The k best keys by inner product among the nprobe lists nearest each query.

    Returns:
        scores (Q, k) float32 descending and rows (Q, k) int64 into keys.
    """
    # BEGIN SOLUTION
    # starter> # Step 1: probes: the nprobe nearest centroids of each query (a stable sort).
    # starter> # Step 2: per query, the rows whose list is one of its probes (torch.isin).
    # starter> # Step 3: score those rows, keep the k best (a stable descending sort).
    # starter> raise NotImplementedError("not implemented yet")
    dist = squared_distances(queries, centroids)
    probes = torch.sort(dist, dim=1, stable=True).indices[:, :nprobe]  # (Q, nprobe)
    scores = torch.empty(queries.shape[0], k)
    rows = torch.empty(queries.shape[0], k, dtype=torch.int64)
    for q in range(queries.shape[0]):
        candidates = torch.isin(assignment, probes[q]).nonzero().flatten()  # ascending rows
        s = keys[candidates] @ queries[q]
        order = torch.sort(s, descending=True, stable=True).indices[:k]
        scores[q], rows[q] = s[order], candidates[order]
    return scores, rows
    # END SOLUTION
