"""Comparing a learner's output with the float64 reference, and saying what went wrong.

Tolerance, element by element, with K the reduction length and `scale` the
RMS of the expected output (or, when one case has several outputs or
gradients, the largest RMS among them: dq of one-key attention is exactly zero
in float64 but rounding noise in float32, and is judged on the scale of dk and
dv):

    |got - want| <= rtol * sqrt(K) * (|want| + scale) + min(atol * sqrt(K), 0.01 * scale)

`rtol`/`atol` come from the output's dtype (DEFAULT_RTOL, DEFAULT_ATOL). The
absolute part is never looser than 1% of the output's own scale (unless the
output is zero at the dtype's resolution), so an all-zeros answer always
fails, while a correct float32 answer whose output is tiny through
cancellation (gelu of -4) still passes; a low-precision accumulation
(error ~ eps16 * sqrt(K)) fails a float32 check.

Diagnostics come in the order a learner should read them: type, shape, dtype,
device; NaN/Inf; then the number of mismatches, the first indices, the max
abs/rel error and a hint from where the mismatches cluster.
"""

from __future__ import annotations

import math

import torch

from hubkit.check.spec import CheckFailure, is_sentinel

# Relative tolerance per dtype for an elementwise op (reduction length 1).
DEFAULT_RTOL = {
    torch.float64: 1e-10,
    torch.float32: 2e-6,
    torch.float16: 2e-3,
    torch.bfloat16: 1.6e-2,
}
# Absolute tolerance per dtype (capped at 1% of the output's scale).
DEFAULT_ATOL = {
    torch.float64: 1e-12,
    torch.float32: 1e-5,
    torch.float16: 1e-3,
    torch.bfloat16: 1e-2,
}


def tolerance(dtype: torch.dtype, reduction: int = 1,
              rtol: dict[torch.dtype, float] | None = None) -> float:
    """The relative tolerance for `dtype` after summing `reduction` terms (0: exact, for ints)."""
    table = {**DEFAULT_RTOL, **(rtol or {})}
    return table.get(dtype, 0.0) * math.sqrt(max(reduction, 1))


def absolute_tolerance(dtype: torch.dtype, reduction: int, scale: float,
                       condition: float = 1.0) -> float:
    """DEFAULT_ATOL[dtype] * sqrt(K), capped at 1% of the output's scale.

    # subtle: an output that is zero at this dtype's resolution (a gradient that
    # cancels exactly, scale < DEFAULT_ATOL) gets no cap: float32 rounding noise
    # of 1e-7 there is right, and an all-zeros answer is right too.
    """
    atol = DEFAULT_ATOL.get(dtype, 0.0) * math.sqrt(max(reduction, 1)) * condition
    return atol if scale < DEFAULT_ATOL.get(dtype, 0.0) else min(atol, 0.01 * scale)


def check_meta(got: object, want: torch.Tensor, name: str, dtype: torch.dtype) -> torch.Tensor:
    """Check type, shape, dtype and device before any value; return `got`."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailure(f"{name}: expected a torch.Tensor, got {type(got).__name__}")
    if tuple(got.shape) != tuple(want.shape):
        raise CheckFailure(f"{name}: wrong shape {tuple(got.shape)}, expected {tuple(want.shape)}")
    if got.dtype != dtype:
        raise CheckFailure(f"{name}: wrong dtype {str(got.dtype)[6:]}, expected {str(dtype)[6:]}")
    if got.device.type != want.device.type:
        raise CheckFailure(f"{name}: on {got.device}, expected {want.device}")
    return got


def assert_close(got: object, want: torch.Tensor, *, name: str = "output",
                 dtype: torch.dtype | None = None, reduction: int = 1,
                 rtol: dict[torch.dtype, float] | None = None, sentinel: bool = False,
                 scale_floor: float = 0.0, condition: float = 1.0) -> None:
    """Raise CheckFailure with teaching diagnostics unless `got` matches `want`.

    Args:
        got: the learner's tensor.
        want: the reference, ideally computed in float64.
        name: what `got` is ("output", "grad of x").
        dtype: the dtype `got` must have (default: want's).
        reduction: terms summed per element (widens the tolerance by sqrt).
        rtol: per-dtype overrides of DEFAULT_RTOL.
        sentinel: the output buffer was NaN-filled by the checker, so NaN
            means "never written".
        scale_floor: the scale of sibling outputs of the same case (see above).
        condition: multiplies the tolerance for an ill-conditioned case.
    """
    got = check_meta(got, want, name, dtype or want.dtype)
    g, w = got.detach().double().cpu(), want.detach().double().cpu()
    _check_finite(g, w, name, is_sentinel(got).cpu() if sentinel else None)
    scale = max(rms(w), scale_floor)
    tol = tolerance(got.dtype, reduction, rtol) * condition
    atol = absolute_tolerance(got.dtype, reduction, scale, condition)
    err = (g - w).abs()
    bad = err > tol * (w.abs() + scale) + atol
    if not bool(bad.any()):
        return
    raise CheckFailure(describe_mismatch(g, w, bad, err, name, tol, atol))


def rms(t: torch.Tensor) -> float:
    """Root-mean-square of a floating tensor (0 for an empty or integer one)."""
    if not t.numel() or not t.is_floating_point():
        return 0.0
    return float(t.detach().double().pow(2).mean().sqrt())


def _check_finite(g: torch.Tensor, w: torch.Tensor, name: str,
                  unwritten: torch.Tensor | None) -> None:
    """NaN/Inf in `g`; `unwritten` marks elements still holding the checker's fill NaN."""
    if not bool(torch.isfinite(w).all()):
        raise CheckFailure(f"{name}: the reference has NaN/Inf on this case; report this bug")
    nonfinite = ~torch.isfinite(g)
    if bool(nonfinite.any()):
        n, first = int(nonfinite.sum()), _first_indices(nonfinite, 3)
        why = ""
        if unwritten is not None and bool(unwritten.any()):
            why = (f" - {int(unwritten.sum())} elements never written (they still hold the "
                   "NaN the checker fills output buffers with before your code runs: "
                   "uninitialized output)")
        elif unwritten is not None:
            why = (" - computed by your code: none holds the NaN the checker fills output "
                   "buffers with (overflow, 0/0, inf - inf, log of a negative?)")
        where = _tail_hint(nonfinite if g.dim() else nonfinite.reshape(1))
        where = f"\n  hint: {where}" if where and n < g.numel() else ""
        raise CheckFailure(f"{name}: {n} of {g.numel()} elements are NaN or Inf, first at "
                           f"{first}{why}{where}")


def describe_mismatch(g: torch.Tensor, w: torch.Tensor, bad: torch.Tensor, err: torch.Tensor,
                      name: str, tol: float, atol: float = 0.0) -> str:
    """A multi-line explanation of where and how `g` differs from `w`."""
    n = int(bad.sum())
    lines = [f"{name}: {n} of {g.numel()} elements differ from the reference "
             f"(allowed: {tol:.1e} x (|expected| + output scale) + {atol:.1e})"]
    for idx in _first_indices(bad, 3):
        lines.append(f"  at {idx}: got {g[idx].item():.6g}, expected {w[idx].item():.6g}")
    rel = err / w.abs().clamp_min(1e-30)
    lines.append(f"  max abs error {err.max().item():.3g}, max rel error "
                 f"{rel[bad].max().item():.3g}")
    hint = cluster_hint(g, w, bad)
    if hint:
        lines.append(f"  hint: {hint}")
    return "\n".join(lines)


def _first_indices(mask: torch.Tensor, k: int) -> list[tuple[int, ...]]:
    idx = mask.reshape(mask.shape or (1,)).nonzero()[:k]
    return [tuple(int(i) for i in row) for row in idx] if mask.dim() else [()]


def cluster_hint(g: torch.Tensor, w: torch.Tensor, bad: torch.Tensor) -> str:
    """Name the likely bug from where the mismatches are (empty string if no pattern)."""
    if not bool(g.any()) and bool(w.any()):
        return "your output is all zeros: is the result ever written to the output?"
    ratio = _constant_ratio(g, w)
    if ratio is not None:
        return f"your output is the expected one times {ratio:.4g}: a missing or extra factor"
    if g.dim() >= 2:
        hint = _triangle_hint(g, w, bad) or _tail_hint(bad)
        if hint:
            return hint
    elif g.dim() == 1:
        hint = _tail_hint(bad.unsqueeze(0))
        if hint:
            return hint
    # subtle: > 1/2, not ~1: elements whose true value is tiny (gelu(-5)) can match by luck.
    if bad.float().mean() > 0.5:
        return (f"errors in most elements ({bad.float().mean():.0%}), not in one region: check "
                "the formula, the index arithmetic (row/column order) and whether an operand "
                "is transposed")
    return ""


def _constant_ratio(g: torch.Tensor, w: torch.Tensor) -> float | None:
    mask = w.abs() > 1e-3 * float(w.abs().max()) if w.numel() else w.bool()
    if int(mask.sum()) < 4:
        return None
    r = g[mask] / w[mask]
    ratio = float(r.median())
    spread = float((r - ratio).abs().max())
    if abs(ratio - 1) > 1e-3 and abs(ratio) > 1e-6 and spread < 1e-3 * abs(ratio):
        return ratio
    return None


def _triangle_hint(g: torch.Tensor, w: torch.Tensor, bad: torch.Tensor) -> str:
    rows, cols = g.shape[-2], g.shape[-1]
    if rows < 2 or cols < 2:
        return ""
    if rows == cols and torch.allclose(g, w.transpose(-1, -2), rtol=1e-3, atol=1e-5):
        return "your output is the expected one transposed: swap the row and column indices"
    i = torch.arange(rows).unsqueeze(1)
    j = torch.arange(cols).unsqueeze(0)
    b = bad.reshape(-1, rows, cols).any(0)
    if bool(b[j > i].all()) and not bool(b[j <= i].any()):
        return ("errors only above the diagonal: future positions are not masked "
                "(causal mask missing or off by one)")
    if bool(b[j < i].all()) and not bool(b[j >= i].any()):
        return "errors only below the diagonal: the causal mask is flipped"
    if bool(b[i == j].any()) and not bool(b[i != j].any()):
        return "errors only on the diagonal: the diagonal is masked or treated specially"
    return ""


def _tail_hint(bad: torch.Tensor) -> str:
    rows = bad.reshape(-1, bad.shape[-1]).any(0)  # per column
    cols_bad = rows.nonzero().flatten()
    ncols = bad.shape[-1]
    if len(cols_bad) and int(cols_bad[0]) > 0 and bool(rows[int(cols_bad[0]):].all()):
        return (f"only the last columns are wrong (from column {int(cols_bad[0])} of {ncols}): "
                "a tail your loop or mask does not cover")
    if bad.dim() >= 3:  # (..., rows, cols): the last rows of every plane (an image, a head)
        per_row = bad.transpose(-2, -1).reshape(-1, bad.shape[-2]).any(0)
        first = per_row.nonzero().flatten()
        if len(first) and int(first[0]) > 0 and bool(per_row[int(first[0]):].all()):
            return (f"only the last row{'s' if int(first[0]) < bad.shape[-2] - 1 else ''} of "
                    f"every {bad.shape[-2]} x {ncols} plane are wrong (from row {int(first[0])}): "
                    "a read or loop bound past the last row (an out-of-bounds index at the "
                    "bottom edge, or padding not handled there)")
    lead = bad.reshape(-1, ncols).any(1)  # per flattened row
    rows_bad = lead.nonzero().flatten()
    if len(rows_bad) and int(rows_bad[0]) > 0 and bool(lead[int(rows_bad[0]):].all()):
        return (f"only the last rows are wrong (from row {int(rows_bad[0])} of {lead.numel()}): "
                "the last tile/block is skipped; check the loop bound or the mask")
    return ""
