"""Argument checks shared by every op: run in Python before any kernel.

Each check raises ValueError (TypeError for a non-tensor) whose message starts
with the argument's name and says what was expected, so a learner or a
downstream user sees `weight: expected 4 dims (K, C/groups, R, S), got 3`
instead of a crash inside a kernel.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

FLOATS = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def tensor(name: str, t: object, *, ndim: int | Iterable[int] | None = None,
           dtypes: Iterable[torch.dtype] | None = None, what: str = "") -> torch.Tensor:
    """Check that `t` is a tensor with the given rank and dtype; return it.

    Args:
        name: the argument's name as the user wrote it.
        t: the value passed.
        ndim: an allowed rank, or several.
        dtypes: allowed dtypes.
        what: a shape legend for the message, e.g. "(B, H, T, D)".
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if t.dim() not in allowed:
            dims = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name}: expected {dims} dims {what}, got shape {tuple(t.shape)}")
    if dtypes is not None:
        allowed_dtypes = tuple(dtypes)
        if t.dtype not in allowed_dtypes:
            names = ", ".join(str(d).replace("torch.", "") for d in allowed_dtypes)
            raise ValueError(f"{name}: dtype {str(t.dtype).replace('torch.', '')} is not "
                             f"supported here; expected one of {names}")
    return t


def same_device(**tensors: torch.Tensor | None) -> torch.device:
    """Check that all given tensors share one device; return it."""
    items = [(k, v) for k, v in tensors.items() if v is not None]
    first_name, first = items[0]
    for name, t in items[1:]:
        if t.device != first.device:
            raise ValueError(f"{name}: on {t.device}, but {first_name} is on {first.device}")
    return first.device


def same_dtype(**tensors: torch.Tensor | None) -> torch.dtype:
    """Check that all given tensors share one dtype; return it."""
    items = [(k, v) for k, v in tensors.items() if v is not None]
    first_name, first = items[0]
    for name, t in items[1:]:
        if t.dtype != first.dtype:
            raise ValueError(f"{name}: dtype {t.dtype}, but {first_name} is {first.dtype}; "
                             "cast them to one dtype")
    return first.dtype


def finite(name: str, t: torch.Tensor) -> None:
    """Reject NaN or infinite values."""
    if t.is_floating_point() and not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name}: contains NaN or infinite values")
