"""Exact top-k similarity search, readable: score a chunk of keys, merge, repeat.

The spec of `hubkit.ops.topk_similarity`. The whole (Q, N) score matrix of a large
key set never exists: keys are scored `chunk` rows at a time, and each chunk's
scores are merged into a running (Q, k) top-k before the next chunk is scored, so
memory is O(Q * (chunk + k)) however large N is.

Order, the same in every backend: scores descending; equal scores (ties) list the
lower key index first.

Shapes: queries (Q, D), keys (N, D) -> scores (Q, k), indices (Q, k) int64.
"""

from __future__ import annotations

import torch

METRICS = ("ip", "cosine")
NORM_EPS = 1e-12  # as torch.nn.functional.normalize: x / max(||x||, eps)


def normalize_rows(x: torch.Tensor) -> torch.Tensor:
    """(N, D) -> (N, D), each row divided by max(its L2 norm, 1e-12); zero rows stay zero."""
    return x / x.norm(dim=1, keepdim=True).clamp_min(NORM_EPS)


def merge_topk(scores: torch.Tensor, indices: torch.Tensor, k: int):
    """The best k of each row of candidates, ties to the lower index.

    Args:
        scores: (Q, C) candidate scores; indices: (Q, C) their key indices,
            each row ordered by index wherever scores are equal (true of a
            running top-k followed by a chunk of later keys).

    Returns:
        (scores (Q, k), indices (Q, k)), scores descending.
    """
    # subtle: torch.topk does not promise an order among equal values; a stable
    # descending sort keeps equal scores in their given (ascending index) order.
    order = torch.sort(scores, dim=1, descending=True, stable=True).indices[:, :k]
    return scores.gather(1, order), indices.gather(1, order)


def topk_similarity_reference(queries: torch.Tensor, keys: torch.Tensor, k: int,
                              metric: str = "ip", chunk: int = 4096):
    """The k keys most similar to each query, scoring `chunk` keys at a time.

    Args:
        queries: (Q, D); keys: (N, D), N >= k.
        k: how many keys per query.
        metric: "ip" (inner product) or "cosine" (inner product of unit vectors).
        chunk: keys scored per step.

    Returns:
        scores (Q, k) in the inputs' dtype, descending; indices (Q, k) int64.

    Example:
        >>> q = torch.tensor([[1.0, 0.0]])
        >>> keys = torch.tensor([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
        >>> topk_similarity_reference(q, keys, 2)
        (tensor([[2., 1.]]), tensor([[1, 2]]))
    """
    if metric == "cosine":
        queries = normalize_rows(queries)
    best_s = queries.new_empty(queries.shape[0], 0)
    best_i = torch.empty(queries.shape[0], 0, dtype=torch.int64, device=queries.device)
    for start in range(0, keys.shape[0], chunk):
        block = keys[start:start + chunk]  # (C, D)
        if metric == "cosine":
            block = normalize_rows(block)
        s = queries @ block.T  # (Q, C): the only score matrix, one chunk wide
        i = torch.arange(start, start + block.shape[0], device=keys.device).expand_as(s)
        best_s, best_i = merge_topk(torch.cat([best_s, s], 1), torch.cat([best_i, i], 1), k)
    return best_s, best_i
