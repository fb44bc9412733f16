"""Checker spec for topk_similarity_cpp: the learner's fused exact top-k search in C++.

The reference is `hubkit.search.reference.topk_similarity_reference` in float64;
the outputs are scores (float32) and indices (int64, checked exactly). Integer-
valued ip cases make ties certain and exact in any summation order, so they test
the tie rule (lower index first); random cases test the values and cosine.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec, randn
from hubkit.search.ops import topk_similarity
from hubkit.search.reference import topk_similarity_reference

# (Q, N, D, k, metric): odd sizes, one key, k = N, D past 8/16-wide vectors.
SHAPES = [(7, 1000, 37, 5, "ip"), (1, 1, 1, 1, "cosine"), (5, 300, 70, 300, "cosine"),
          (33, 513, 129, 10, "ip"), (3, 2000, 16, 64, "cosine")]
FAST_SHAPES = SHAPES[:3]


def _integers(ctx: CheckContext, *shape: int) -> torch.Tensor:
    """Small integers as float32: exact products and sums, many equal scores."""
    return torch.randint(-2, 3, shape, generator=ctx.gen).float()


def cases(ctx: CheckContext) -> list[Case]:
    out = []
    for q, n, d, k, metric in FAST_SHAPES if ctx.fast else SHAPES:
        out.append(Case(f"Q={q} N={n} D={d} k={k} {metric}",
                        {"queries": randn(ctx, q, d), "keys": randn(ctx, n, d, layout="strided"),
                         "k": k, "metric": metric}, reduction=d))
    out.append(Case("ties: integer vectors, ip",
                    {"queries": _integers(ctx, 4, 6), "keys": _integers(ctx, 400, 6), "k": 50,
                     "metric": "ip"}, reduction=6))
    return out


def call(learner, ctx: CheckContext, queries, keys, k, metric):
    """What hubkit's own op does before its kernel: contiguous inputs, fresh outputs."""
    queries, keys = queries.contiguous(), keys.contiguous()
    (q, d), n = queries.shape, keys.shape[0]
    scores, indices = ctx.empty(q, k), ctx.empty(q, k, dtype=torch.int64)  # NaN / -7 filled
    learner.topk_similarity_forward(queries.data_ptr(), keys.data_ptr(), scores.data_ptr(),
                                    indices.data_ptr(), q, n, d, k, metric == "cosine")
    return scores, indices


def bench(ctx: CheckContext) -> Case:
    return Case("Q=32 N=10000 D=128 k=10 ip", {"queries": randn(ctx, 32, 128),
                                               "keys": randn(ctx, 10000, 128), "k": 10,
                                               "metric": "ip"}, reduction=128)


SPEC = OpSpec(
    reference=topk_similarity_reference,
    cases=cases,
    call=call,
    shipped=lambda queries, keys, k, metric: topk_similarity(queries, keys, k, metric,
                                                             backend="cpp"),
    forbidden=("aten::topk", "aten::sort", "aten::mm", "aten::matmul", "hubkit::topk_similarity"),
    bench=bench,
    names={"reference": "hubkit.search.reference (chunked matmul + running top-k merge)",
           "shipped": "hubkit.ops.topk_similarity, cpp backend (register-tiled, heap per query)"},
)
