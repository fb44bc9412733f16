"""What the NumPy RNN exercises share: drawing inputs, calling the learner, naming each output.

lstm_cell_numpy and rnn_bptt both hand float64 NumPy arrays to the learner,
require them back unchanged, and compare several named results (outputs, then
each gradient) with torch's autograd through `hubkit.rnn.reference`.
"""

from __future__ import annotations

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, assert_close


def draw(ctx: CheckContext, shapes: dict[str, tuple[int, ...]],
         scale: dict[str, float] | None = None) -> dict[str, torch.Tensor]:
    """float64 normal tensors of the given shapes from the run's generator."""
    scale = scale or {}
    return {k: torch.randn(s, generator=ctx.gen, dtype=torch.float64) * scale.get(k, 1.0)
            for k, s in shapes.items()}


def call_unchanged(ctx: CheckContext, fn, what: str, arrays: dict[str, np.ndarray], *extra):
    """fn(*arrays.values(), *extra) under the guard; fail if it changed any input array."""
    before = {k: v.copy() for k, v in arrays.items()}
    with ctx.guard():
        out = fn(*arrays.values(), *extra)
    for k, v in arrays.items():
        if not np.array_equal(v, before[k]):
            raise CheckFailure(f"{what}: your code modified its input `{k}`: compute into new "
                               "arrays and leave the caller's alone")
    return out


def compare(what: str, got, want: dict[str, torch.Tensor]) -> None:
    """got: a tuple of arrays in the order of `want`; each compared under its name."""
    if not isinstance(got, (tuple, list)) or len(got) != len(want):
        n = len(got) if isinstance(got, (tuple, list)) else type(got).__name__
        raise CheckFailure(f"{what}: expected a tuple of {len(want)} arrays "
                           f"({', '.join(want)}), got {n}")
    for g, (name, w) in zip(got, want.items(), strict=True):
        assert_close(torch.as_tensor(np.asarray(g)), w, name=f"{what}: {name}")


def grads(outputs: tuple[torch.Tensor, ...], upstream: tuple[torch.Tensor, ...],
          inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """{'grad of <name>': d(sum(outputs * upstream)) / d input} by torch's autograd."""
    loss = sum((o * u).sum() for o, u in zip(outputs, upstream, strict=True))
    got = torch.autograd.grad(loss, list(inputs.values()))
    return {f"grad of {k}": g for k, g in zip(inputs, got, strict=True)}
