"""IVF-Flat: search only the few lists whose centroids are nearest the query.

An inverted-file index splits the stored vectors into C lists, one per k-means
centroid (each vector goes to the list of its nearest centroid). A query scores
its `nprobe` nearest centroids, then searches exactly, by inner product, only the
vectors of those lists: about N * nprobe / C of them instead of N. Recall drops
when a true neighbour sits in a list that was not probed; raising nprobe trades
speed back for recall (nprobe = C is exact search).

`search_lists` is the batched fast path in torch (each probed list scored once for
all its queries); `search_lists_cpp` the same loop in C++, which the index uses
when hubkit._C is built.

Jegou, Douze, Schmid, "Product quantization for nearest neighbor search", 2011
(the IVF part); faiss's IndexIVFFlat.

Shapes: queries (Q, D), centroids (C, D), keys (N, D), lists: C entries of
(vectors (n_c, D), rows (n_c,)); results (Q, k), row -1 and score -inf where a
query's probed lists hold fewer than k vectors.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit import _ext
from hubkit.search.kmeans import nearest_centroids


def ivf_search_reference(queries: torch.Tensor, centroids: torch.Tensor, keys: torch.Tensor,
                         assignment: torch.Tensor, nprobe: int, k: int):
    """IVF search one query at a time: the spec, and the `ivf_search` exercise.

    Args:
        queries: (Q, D); centroids: (C, D); keys: (N, D).
        assignment: (N,) int64, the list (centroid) of each key.
        nprobe: lists searched per query, the nearest in L2 first.
        k: results per query.

    Returns:
        scores (Q, k) inner products, descending (ties: lower row first), and
        rows (Q, k) int64 into keys; -inf and -1 past the candidates found.

    Example:
        >>> c = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
        >>> keys = torch.tensor([[0.0, 2.0], [3.0, 0.0], [2.0, 0.1]])
        >>> ivf_search_reference(torch.tensor([[1.0, 0.0]]), c, keys, torch.tensor([0, 1, 1]), 1, 3)
        (tensor([[3., 2., -inf]]), tensor([[ 1,  2, -1]]))
    """
    probes = nearest_centroids(queries, centroids, nprobe)  # (Q, nprobe)
    scores = queries.new_full((queries.shape[0], k), float("-inf"))
    rows = torch.full((queries.shape[0], k), -1, dtype=torch.int64)
    for q in range(queries.shape[0]):
        cand = torch.isin(assignment, probes[q]).nonzero().flatten()  # ascending rows
        s = keys[cand] @ queries[q]
        order = torch.sort(s, descending=True, stable=True).indices[:k]
        scores[q, :len(order)], rows[q, :len(order)] = s[order], cand[order]
    return scores, rows


def best_k(scores: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The k best candidates of one query, score descending then row ascending, padded."""
    order = np.lexsort((rows, -scores))[:k]
    out_s = np.full(k, -np.inf, dtype=np.float32)
    out_r = np.full(k, -1, dtype=np.int64)
    out_s[:len(order)], out_r[:len(order)] = scores[order], rows[order]
    return out_s, out_r


def search_lists(queries: torch.Tensor, probes: torch.Tensor, lists, k: int,
                 alive: np.ndarray | None = None):
    """IVF search batched by list: each probed list is scored once, for all its queries.

    Args:
        queries: (Q, D) float32; probes: (Q, nprobe) list numbers per query.
        lists: per list, (vectors (n_c, D) float32 tensor, rows (n_c,) int64 ndarray).
        k: results per query.
        alive: (R,) bool by row, or None; dead rows (tombstones) are skipped.

    Returns:
        scores (Q, k) float32 ndarray, rows (Q, k) int64 ndarray, as `ivf_search_reference`.
    """
    cand_s = [[] for _ in range(queries.shape[0])]
    cand_r = [[] for _ in range(queries.shape[0])]
    for c in torch.unique(probes).tolist():
        vectors, rows = lists[c]
        if len(rows) == 0:
            continue
        qs = (probes == c).any(1).nonzero().flatten()
        s = (queries[qs] @ vectors.T).numpy()  # (queries probing c, n_c)
        keep = slice(None) if alive is None else alive[rows]
        for j, q in enumerate(qs.tolist()):
            cand_s[q].append(s[j][keep])
            cand_r[q].append(rows[keep])
    out = [best_k(np.concatenate(s or [np.empty(0, np.float32)]),
                  np.concatenate(r or [np.empty(0, np.int64)]), k)
           for s, r in zip(cand_s, cand_r, strict=True)]
    return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])


def search_lists_cpp(queries: np.ndarray, probes: np.ndarray, lists, k: int,
                     alive: np.ndarray | None = None):
    """`search_lists` in C++ (csrc/search/ivf.cpp): one call, queries in parallel.

    Args as `search_lists`, but NumPy: queries (Q, D) float32; probes (Q, nprobe)
    int64; lists of (vectors (n_c, D) float32, rows (n_c,) int64), C-contiguous.

    Returns:
        scores (Q, k) float32 and rows (Q, k) int64 ndarrays, as `search_lists`.
    """
    queries = np.ascontiguousarray(queries, np.float32)
    probes = np.ascontiguousarray(probes, np.int64)
    q, d = queries.shape
    in_range = ((probes >= 0) & (probes < len(lists))).all()
    if probes.ndim != 2 or probes.shape[0] != q or not in_range:
        raise ValueError(f"probes: expected (Q={q}, nprobe) list numbers in [0, {len(lists)})")
    for vectors, rows in lists:  # the C++ side reads these addresses as they are
        if not (vectors.dtype == np.float32 and vectors.flags.c_contiguous
                and rows.dtype == np.int64 and rows.flags.c_contiguous
                and vectors.shape == (len(rows), d)):
            raise ValueError("lists: expected C-contiguous float32 (n, D) vectors and int64 rows")
    if alive is not None:
        alive = np.ascontiguousarray(alive, bool)
        top = max((int(rows.max()) for _, rows in lists if len(rows)), default=-1)
        if top >= len(alive):
            raise ValueError(f"alive: has {len(alive)} rows, the lists name row {top}")
    addresses = [np.array([a.ctypes.data for a in arrays], np.uint64)  # vectors, rows
                 for arrays in zip(*lists, strict=True)]
    sizes = np.array([len(rows) for _, rows in lists], np.int64)
    scores, rows = np.empty((q, k), np.float32), np.empty((q, k), np.int64)
    _ext.cpp_module().ivf_scan(queries.ctypes.data, q, d, probes.ctypes.data, probes.shape[1],
                               addresses[0].ctypes.data, addresses[1].ctypes.data,
                               sizes.ctypes.data, 0 if alive is None else alive.ctypes.data, k,
                               scores.ctypes.data, rows.ctypes.data)
    return scores, rows
