"""Checker spec for ivf_search: k-means assignment and the nprobe-list probe of IVF-Flat.

The learner's `assign` and `ivf_search` run together (assignment first, then the
search over it); three outputs are compared: scores, rows and the assignment
(the last two exactly). Inputs are small integers, so every distance and score is
exact in float32 and float64 alike and the tie rules decide: equal distances pick
the lower centroid, equal scores the lower row. Cases are redrawn until every
query's probed lists hold at least k keys, so no answer needs padding.

The reference is `hubkit.search.ivf.ivf_search_reference` with
`hubkit.search.kmeans.nearest_centroids` as the assignment.
"""

from __future__ import annotations

import torch

from hubkit.check import Case, CheckContext, OpSpec
from hubkit.search.ivf import ivf_search_reference
from hubkit.search.kmeans import nearest_centroids

# (Q, C, N, D, nprobe, k): one list, nprobe = C, odd sizes
SHAPES = [(5, 7, 300, 6, 2, 10), (1, 1, 5, 1, 1, 3), (9, 16, 1000, 12, 3, 25),
          (4, 5, 50, 3, 5, 50), (13, 33, 2000, 8, 4, 7)]
FAST_SHAPES = SHAPES[:3]


def reference(queries, centroids, keys, nprobe, k):
    assignment = nearest_centroids(keys, centroids)[:, 0]
    return (*ivf_search_reference(queries, centroids, keys, assignment, nprobe, k), assignment)


def _integers(ctx: CheckContext, *shape: int) -> torch.Tensor:
    return torch.randint(-3, 4, shape, generator=ctx.gen).float()


def _case(ctx: CheckContext, q: int, c: int, n: int, d: int, nprobe: int, k: int) -> Case:
    for _ in range(100):
        inputs = {"queries": _integers(ctx, q, d), "centroids": _integers(ctx, c, d),
                  "keys": _integers(ctx, n, d), "nprobe": nprobe, "k": k}
        rows = reference(*(v.double() if isinstance(v, torch.Tensor) else v
                           for v in inputs.values()))[1]
        if bool((rows >= 0).all()):  # every query finds k keys in its lists
            return Case(f"Q={q} C={c} N={n} D={d} nprobe={nprobe} k={k}", inputs, reduction=d)
    raise RuntimeError("could not draw a case whose lists are full enough; report this bug")


def cases(ctx: CheckContext) -> list[Case]:
    return [_case(ctx, *s) for s in (FAST_SHAPES if ctx.fast else SHAPES)]


def call(learner, ctx: CheckContext, queries, centroids, keys, nprobe, k):
    assignment = learner.assign(keys, centroids)
    scores, rows = learner.ivf_search(queries, centroids, keys, assignment, nprobe, k)
    return scores, rows, assignment


def bench(ctx: CheckContext) -> Case:
    # subtle: kept under torch's intra-op grain (32768 elements per op). With (3000, 32)
    # keys the solution's first timed call ran past the 20 s phase on a busy machine
    # (2026-12-02) while correctness passed, so the timing case stays small.
    return _case(ctx, 16, 16, 1000, 16, 4, 10)


SPEC = OpSpec(
    reference=reference,
    cases=cases,
    call=call,
    forbidden=("hubkit::topk_similarity",),
    bench=bench,
    names={"reference": "hubkit.search.ivf.ivf_search_reference (one query at a time)"},
)
