"""`hubkit::topk_similarity`: exact top-k search by inner product or cosine, as a torch op.

Backends: `reference` (`hubkit.search.reference`: chunked matmul plus a running
top-k merge), `cpp` (csrc/search/topk.cpp: blocked dot products fused with a
heap per query, OpenMP over key blocks; the default on CPU) and `triton`
(`hubkit.kernels.search`: one program per (query block, key block), a `tl.dot`
and an in-register top-k of the block, then a small merge of the blocks' bests;
the default on CUDA, on CPU by name under TRITON_INTERPRET=1).

No autograd: the indices are not differentiable and nothing in hubkit trains
through a search, so the scores come back detached (re-score the returned keys
with a plain matmul if a gradient is needed).

Order, in every backend: scores descending; ties list the lower key index first.

Shapes: queries (Q, D), keys (N, D) -> scores (Q, k), indices (Q, k) int64.
"""

from __future__ import annotations

import torch

from hubkit import _checks, _ext
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.search import reference

SPEC = OpBackends("topk_similarity", cpu=("cpp", "reference"), cuda=("triton", "reference"),
                  interpreted=("triton",))
DTYPES = {"reference": _checks.FLOATS, "cpp": (torch.float32,),
          "triton": (torch.float32, torch.float16, torch.bfloat16)}


def _forward_reference(queries, keys, k, metric):
    return reference.topk_similarity_reference(queries, keys, k, metric)


def _forward_cpp(queries, keys, k, metric):
    (q, d), n = queries.shape, keys.shape[0]
    scores = queries.new_empty(q, k)
    indices = torch.empty(q, k, dtype=torch.int64)
    _ext.cpp_module().topk_similarity_forward(
        queries.data_ptr(), keys.data_ptr(), scores.data_ptr(), indices.data_ptr(),
        q, n, d, k, metric == "cosine")
    return scores, indices


def _forward_triton(queries, keys, k, metric):
    from hubkit.kernels.search import topk_similarity_triton

    return topk_similarity_triton(queries, keys, k, metric)


def _fake(queries, keys, k, metric):
    q = queries.shape[0]
    return queries.new_empty(q, k), queries.new_empty(q, k, dtype=torch.int64)


TOPK_SIMILARITY = Op(
    name="topk_similarity", args="Tensor queries, Tensor keys, int k, str metric",
    outputs=("scores", "indices"), grad_outputs=(), backends=SPEC, dtypes=DTYPES,
    forward={"reference": _forward_reference, "cpp": _forward_cpp,
             "triton": _forward_triton},
    backward={}, fake=_fake, differentiable=(),
)


def _check(queries, keys, k, metric) -> torch.device:
    _checks.tensor("queries", queries, ndim=2, dtypes=_checks.FLOATS, what="(Q, D)")
    _checks.tensor("keys", keys, ndim=2, what="(N, D)")
    _checks.same_dtype(queries=queries, keys=keys)
    if keys.shape[1] != queries.shape[1]:
        raise ValueError(f"keys: expected (N, D) with D={queries.shape[1]} (from queries), "
                         f"got shape {tuple(keys.shape)}")
    if queries.shape[1] < 1:
        raise ValueError(f"queries: D must be at least 1, got shape {tuple(queries.shape)}")
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k: expected an int >= 1, got {k!r}")
    if k > keys.shape[0]:
        raise ValueError(f"k: asked for the top {k}, but keys has only N={keys.shape[0]} rows; "
                         f"pass k <= N")
    if metric not in reference.METRICS:
        raise ValueError(f"metric: expected one of {reference.METRICS}, got {metric!r}")
    return _checks.same_device(queries=queries, keys=keys)


def topk_similarity(queries: torch.Tensor, keys: torch.Tensor, k: int, metric: str = "ip", *,
                    backend: str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The k keys most similar to each query, exactly, without the (Q, N) score matrix.

    Args:
        queries: (Q, D).
        keys: (N, D), same dtype and device; N >= k (else ValueError naming k).
        k: keys returned per query, >= 1.
        metric: "ip" (inner product) or "cosine" (inner product of the vectors
            divided by max(norm, 1e-12), as torch.nn.functional.normalize).
        backend: "reference", "cpp" (float32) or "triton"; None picks by device
            (CPU: cpp, CUDA: triton).

    Returns:
        scores (Q, k) in the inputs' dtype, descending, detached (no autograd);
        indices (Q, k) int64 rows of `keys`, the lower index first among equal scores.

    Example:
        >>> import torch, hubkit
        >>> q = torch.tensor([[1.0, 0.0]])
        >>> keys = torch.tensor([[0.0, 1.0], [2.0, 0.0], [1.0, 1.0]])
        >>> hubkit.ops.topk_similarity(q, keys, 2)
        (tensor([[2., 1.]]), tensor([[1, 2]]))
        >>> hubkit.ops.topk_similarity(q, keys, 2, metric="cosine")[1]
        tensor([[1, 2]])
    """
    device = _check(queries, keys, k, metric)
    return TOPK_SIMILARITY(queries, keys, k, metric, device=device, backend=backend)
