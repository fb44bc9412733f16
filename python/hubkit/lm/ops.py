"""`hubkit::linear_cross_entropy`: F.cross_entropy(h @ W.T + b, targets) without the logits.

Backends: `reference` (`hubkit.lm.cross_entropy`: chunks of tokens, each
chunk's cross-entropy and logit gradient in torch ops; the default on CPU) and
`triton` (the same chunks, each chunk's cross-entropy one Triton kernel,
`hubkit.kernels.linear_cross_entropy`: an online softmax over vocabulary blocks
that writes the logit gradient over the logits in place; the default on CUDA,
and runnable on CPU under TRITON_INTERPRET=1 when asked for by name). The
projections themselves are torch matmuls (cuBLAS on a GPU) on each chunk.

Memory trade-off, chosen here as Liger-Kernel chose it: when gradients will be
needed (grad mode on and h, weight or bias requires grad) and the reduction is
"mean" or "sum", the forward computes them in the same pass as the loss: three
matmul passes in all (logits, grad_h, grad_W) instead of four, and no (N, V)
buffer, at the price of holding grad_h and grad_W (the size of h and W) from the
forward to the backward, which scales them by the upstream gradient (briefly a
second copy). With reduction "none" each row's upstream weight is only known in
the backward, so the forward keeps nothing and the backward recomputes the
chunks' logits (four passes). In no-grad mode (evaluation) the forward computes
the loss alone.

Shapes: h (..., D), weight (V, D), bias (V,) or None, targets (...) int64
-> loss () for "mean"/"sum", (...) for "none".
"""

from __future__ import annotations

import functools

import torch

from hubkit import _checks
from hubkit._backend import OpBackends
from hubkit._op import Op
from hubkit.lm import cross_entropy as ce

SPEC = OpBackends("linear_cross_entropy", cpu=("reference",), cuda=("triton", "reference"),
                  interpreted=("triton",))
# Dtypes each backend computes in (losses and gradient sums in float32, or float64 for float64).
DTYPES = {
    "reference": _checks.FLOATS,
    "triton": (torch.float32, torch.float16, torch.bfloat16),
}


def _triton_rows(logits, targets, ignore_index, label_smoothing, grad_scale):
    from hubkit.kernels.linear_cross_entropy import cross_entropy_rows

    return cross_entropy_rows(logits, targets, ignore_index, label_smoothing, grad_scale)


def _fake(h, weight, bias, targets, ignore_index, reduction, label_smoothing, with_grad):
    loss = h.new_empty(() if reduction != "none" else (h.shape[0],))
    if not ce.grads_in_forward(reduction, with_grad):
        return loss, h.new_empty(0), h.new_empty(0), h.new_empty(0)
    gb = bias.new_empty(bias.shape) if bias is not None else h.new_empty(0)
    return loss, h.new_empty(h.shape), weight.new_empty(weight.shape), gb


LINEAR_CROSS_ENTROPY = Op(
    name="linear_cross_entropy",
    args=("Tensor h, Tensor weight, Tensor? bias, Tensor targets, int ignore_index, "
          "str reduction, float label_smoothing, bool with_grad"),
    # The forward's gradients (empty when not computed there) go to the backward.
    outputs=("loss", "grad_h", "grad_weight", "grad_bias"), grad_outputs=("loss",),
    save_outputs=True, backends=SPEC, dtypes=DTYPES,
    forward={"reference": ce.linear_cross_entropy_chunked,
             "triton": functools.partial(ce.linear_cross_entropy_chunked, rows_fn=_triton_rows)},
    backward={"reference": ce.linear_cross_entropy_backward_chunked,
              "triton": functools.partial(ce.linear_cross_entropy_backward_chunked,
                                          rows_fn=_triton_rows)},
    fake=_fake, differentiable=("h", "weight", "bias"),
)


def _check_shapes(h, weight, bias, targets) -> None:
    _checks.tensor("h", h, ndim=range(1, 9), dtypes=_checks.FLOATS, what="(..., D)")
    _checks.tensor("weight", weight, ndim=2, what="(V, D)")
    if weight.shape[1] != h.shape[-1] or weight.shape[0] < 1:
        raise ValueError(f"weight: expected (V, D) with V >= 1 and D={h.shape[-1]} (h's last "
                         f"dim), got {tuple(weight.shape)}")
    if bias is not None:
        _checks.tensor("bias", bias, ndim=1, what="(V,)")
        if bias.shape[0] != weight.shape[0]:
            raise ValueError(f"bias: expected shape ({weight.shape[0]},), got "
                             f"{tuple(bias.shape)}")
    _checks.tensor("targets", targets, dtypes=(torch.int64,))
    if targets.shape != h.shape[:-1]:
        raise ValueError(f"targets: expected shape {tuple(h.shape[:-1])} (h's leading dims), "
                         f"got {tuple(targets.shape)}")


def _check_options(ignore_index, reduction, label_smoothing) -> None:
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, int):
        raise ValueError(f"ignore_index: expected an int, got {ignore_index!r}")
    if reduction not in ce.REDUCTIONS:
        raise ValueError(f"reduction: expected one of {ce.REDUCTIONS}, got {reduction!r}")
    if (isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float))
            or not 0.0 <= label_smoothing <= 1.0):
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")


def _check_target_values(targets, vocab: int, ignore_index: int) -> None:
    # subtle: reading the values syncs a GPU and cannot be traced, so torch.compile skips
    # this check: there the reference backend's gather still refuses an index out of
    # range, but the triton kernel does not check it.
    if torch.compiler.is_compiling():
        return
    bad = (targets != ignore_index) & ((targets < 0) | (targets >= vocab))
    if bool(bad.any()):
        raise ValueError(f"targets: expected values in [0, {vocab}) or ignore_index="
                         f"{ignore_index}, got {int(targets[bad][0])}")


def linear_cross_entropy(h: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor,
                         ignore_index: int = -100, reduction: str = "mean", *,
                         bias: torch.Tensor | None = None, label_smoothing: float = 0.0,
                         backend: str | None = None) -> torch.Tensor:
    """F.cross_entropy(h @ weight.T + bias, targets, ...), never forming the (N, V) logits.

    Args:
        h: (..., D) hidden states, any layout.
        weight: (V, D) vocabulary projection (an nn.Linear(D, V)'s weight, or a tied
            embedding). Not F.cross_entropy's per-class weight, which is not supported.
        targets: (...) int64, h's leading shape; values in [0, V) or ignore_index.
        ignore_index: target value whose rows add nothing and are not counted by "mean".
        reduction: "mean" (over counted rows; NaN if none, as torch), "sum" or "none".
        bias: (V,) or None.
        label_smoothing: eps in [0, 1]: the target is (1 - eps) onehot(t) + eps / V.
        backend: "reference" or "triton"; None picks by device (CPU: reference, CUDA: triton).

    Returns:
        () loss, or (...) per-token losses with reduction="none", in h's dtype.
        Gradients flow to h, weight and bias (see the module docstring for when).

    Example:
        >>> import torch, torch.nn.functional as F, hubkit
        >>> h, w, t = torch.randn(6, 4), torch.randn(11, 4), torch.tensor([3, 0, -100, 10, 2, 7])
        >>> loss = hubkit.ops.linear_cross_entropy(h, w, t)
        >>> torch.allclose(loss, F.cross_entropy(h @ w.T, t))
        True
    """
    _check_shapes(h, weight, bias, targets)
    _check_options(ignore_index, reduction, label_smoothing)
    _checks.same_dtype(h=h, weight=weight, bias=bias)
    device = _checks.same_device(h=h, weight=weight, bias=bias, targets=targets)
    _check_target_values(targets, weight.shape[0], ignore_index)
    with_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (h, weight, bias))
    # subtle: (N, D) by the targets' count, not -1: reshape(-1, 0) is ambiguous when D == 0.
    loss = LINEAR_CROSS_ENTROPY(h.reshape(targets.numel(), h.shape[-1]), weight, bias,
                                targets.reshape(-1), ignore_index, reduction,
                                float(label_smoothing), with_grad, device=device,
                                backend=backend)[0]
    return loss.reshape(targets.shape) if reduction == "none" else loss
