"""Checker spec for prioritized_replay_cpp: a sum-tree prioritized replay index in C++.

Checks, in order, each with a message that names the mistake: the ring's
wraparound (round trip of item ids through add/item), new items at the largest
priority so far, leaves holding p^alpha after update, total() equal to the sum
of the leaves (no stale ancestors), find() against a NumPy prefix-sum search,
and a chi-square test of sampling frequencies against p^alpha / sum p^alpha.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from hubkit.check import CheckContext, CustomSpec


def _uniform(ctx: CheckContext, n: int, lo: float = 0.0, hi: float = 1.0) -> np.ndarray:
    return lo + (hi - lo) * torch.rand(n, generator=ctx.gen, dtype=torch.float64).numpy()


def _check_ring(ctx, learner, capacity: int, alpha: float):
    with ctx.guard():
        buf = learner.PrioritizedReplay(capacity, alpha)
    n_items = 2 * capacity + 3
    steps = ctx.batch([(fn, args) for i in range(n_items)
                       for fn, args in ((buf.add, (1000 + i,)), (buf.size, ()))])
    for i in range(n_items):
        slot, size = steps[2 * i], steps[2 * i + 1]
        if slot != i % capacity:
            ctx.fail(f"wraparound: add() number {i} returned slot {slot}, expected "
                     f"{i % capacity} (slots go 0, 1, ..., capacity - 1 = {capacity - 1}, "
                     "then back to 0, overwriting the oldest item)")
        if size != min(i + 1, capacity):
            ctx.fail(f"size() = {size} after {i + 1} adds, expected {min(i + 1, capacity)}")
    items = ctx.batch([(buf.item, (slot,)) for slot in range(capacity)])
    for slot, item in enumerate(items):
        newest = max(i for i in range(n_items) if i % capacity == slot)
        if item != 1000 + newest:
            ctx.fail(f"wraparound: item({slot}) = {item}, expected {1000 + newest}")
    if not np.isclose(buf.total(), capacity, rtol=1e-12):
        ctx.fail(f"total() = {buf.total()} after {n_items} adds, expected {capacity}: new items "
                 "get priority 1.0 (1.0^alpha = 1) before any update")
    return buf


def _check_updates(ctx, buf, capacity: int, alpha: float) -> np.ndarray:
    priorities = _uniform(ctx, capacity, 0.1, 5.0)
    ctx.batch([(buf.update, (slot, float(p))) for slot, p in enumerate(priorities)])
    leaves = np.array(ctx.batch([(buf.leaf, (s,)) for s in range(capacity)]))
    want = priorities**alpha
    if np.allclose(leaves, priorities, rtol=1e-9) and alpha != 1.0:
        ctx.fail("leaf(slot) holds the priority p, not p^alpha: raise each priority to alpha "
                 "before it goes into the tree")
    if not np.allclose(leaves, want, rtol=1e-9):
        bad = int(np.argmax(np.abs(leaves - want)))
        ctx.fail(f"leaf({bad}) = {leaves[bad]:.6g} after update, expected p^alpha = "
                 f"{want[bad]:.6g}")
    if not np.isclose(buf.total(), want.sum(), rtol=1e-9):
        ctx.fail(f"total() = {buf.total():.6g} but the leaves sum to {want.sum():.6g}: the sums "
                 "above an updated leaf are stale (recompute every ancestor up to the root)")
    return want


def _check_find(ctx, buf, weights: np.ndarray) -> None:
    cum = np.cumsum(weights)
    prefixes = np.concatenate([[0.0], _uniform(ctx, 300) * cum[-1], cum[:-1] + 1e-9 * cum[-1]])
    found = ctx.batch([(buf.find, (float(u),)) for u in prefixes])
    for u, got in zip(prefixes, found, strict=True):
        want = int(np.searchsorted(cum, u, side="right"))
        if got != min(want, len(weights) - 1):
            ctx.fail(f"find({u:.6g}) returned slot {got}, expected {want}: slot i covers "
                     f"[sum of leaves before i, that sum + leaf(i)) (total {cum[-1]:.6g})")


def _check_frequencies(ctx, buf, weights: np.ndarray, draws: int) -> None:
    counts = np.zeros(len(weights))
    for slot in ctx.batch([(buf.find, (float(u),)) for u in _uniform(ctx, draws) * buf.total()]):
        counts[slot] += 1
    expected = weights / weights.sum() * draws
    p = stats.chisquare(counts, expected).pvalue
    if p < 1e-6:  # a correct solution fails about once in 10^6 runs
        ctx.fail(f"sampling frequencies do not follow p^alpha / sum p^alpha (chi^2 p = {p:.1e})")
    ctx.note(f"chi^2 p = {p:.3f} over {draws} draws")


def check(learner, ctx: CheckContext) -> None:
    alpha = float(_uniform(ctx, 1, 0.4, 0.9)[0])
    for capacity in ((5, 37) if ctx.fast else (1, 5, 37, 1000)):
        buf = _check_ring(ctx, learner, capacity, alpha)
        weights = _check_updates(ctx, buf, capacity, alpha)
        _check_find(ctx, buf, weights)
        if capacity > 1:
            _check_frequencies(ctx, buf, weights, 4_000 if ctx.fast else 40_000)
        slot = buf.add(7)
        top = max(1.0, float(np.max(weights ** (1 / alpha))))
        if not np.isclose(buf.leaf(slot), top**alpha, rtol=1e-9):
            ctx.fail(f"a new item got leaf {buf.leaf(slot):.6g}, expected the largest priority "
                     f"so far to the alpha ({top**alpha:.6g})")


SPEC = CustomSpec(check=check)
