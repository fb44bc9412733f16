"""LoRA on Hugging Face transformers models: apply, merge (adapters on disk: `adapter.py`).

`apply_lora` swaps each targeted layer for a `LoRALayer` holding the frozen
original (`base_layer`) plus `lora_A` (r, in) and `lora_B` (out, r); every other
parameter of the model is frozen. It handles `nn.Linear` (BERT-family encoders)
and transformers' `Conv1D` (GPT-2), whose weight is stored transposed, (in, out).
Names follow the `peft` library's matching rule: a target "query" matches a
module named "query" or ending in ".query".

Shapes: x (..., K) -> (..., N); A (r, K), B (N, r).

Example:
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> model = apply_lora(model, ["0"], r=2, alpha=4)
    >>> [n for n, p in model.named_parameters() if p.requires_grad]
    ['0.lora_A', '0.lora_B']
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hubkit.peft import ops, reference


def _conv1d_type() -> type | None:
    try:
        from transformers.pytorch_utils import Conv1D
    except ImportError:
        return None
    return Conv1D


def _wrappable(module: nn.Module) -> bool:
    conv1d = _conv1d_type()
    return isinstance(module, nn.Linear) or (conv1d is not None and isinstance(module, conv1d))


class LoRALayer(nn.Module):
    """A frozen linear layer (nn.Linear or GPT-2 Conv1D) plus a LoRA update.

    With dropout inactive (eval mode, or p=0) the forward is one call of the fused
    op `hubkit.ops.lora_linear`; with dropout active the LoRA path sees a dropped-out
    x that the base path does not, so it runs as separate matmuls.

    Args:
        base: the layer to adapt; frozen here.
        r, alpha, dropout: rank, scale numerator (scale = alpha / r), LoRA-path dropout.
        backend: backend for `lora_linear` (None: by device).
    """

    def __init__(self, base: nn.Module, r: int, alpha: float, dropout: float = 0.0,
                 backend: str | None = None):
        super().__init__()
        self.fan_in_fan_out = not isinstance(base, nn.Linear)  # Conv1D stores (in, out)
        w = self._weight(base)
        n, k = w.shape
        reference.check_rank(r, k, n)
        self.base_layer = base.requires_grad_(False)
        self.r, self.alpha, self.scale, self.backend = r, alpha, alpha / r, backend
        self.lora_A = nn.Parameter(torch.empty(r, k, dtype=w.dtype, device=w.device))
        self.lora_B = nn.Parameter(torch.zeros(n, r, dtype=w.dtype, device=w.device))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))  # A random, B zero: starts at base
        self.lora_dropout = nn.Dropout(dropout)
        self.merged = False
        self.train(base.training)  # subtle: a new module starts in training mode; follow the model

    def _weight(self, base: nn.Module) -> torch.Tensor:
        """The base weight as (N, K), a view either way."""
        return base.weight.t() if self.fan_in_fan_out else base.weight

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.merged:
            return self.base_layer(x)
        w, bias = self._weight(self.base_layer), self.base_layer.bias
        if self.training and self.lora_dropout.p > 0:
            lora = self.lora_dropout(x) @ self.lora_A.t() @ self.lora_B.t()  # (..., N)
            return self.base_layer(x) + self.scale * lora
        return ops.lora_linear(x, w, bias, self.lora_A, self.lora_B, self.scale,
                               backend=self.backend)

    def delta_weight(self) -> torch.Tensor:
        """scale * B A in the base weight's own layout."""
        delta = self.scale * (self.lora_B @ self.lora_A)  # (N, K)
        return delta.t() if self.fan_in_fan_out else delta

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into the base weight."""
        if not self.merged:
            self.base_layer.weight += self.delta_weight()
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take the update back out of the base weight."""
        if self.merged:
            self.base_layer.weight -= self.delta_weight()
            self.merged = False


def _matches(name: str, targets: list[str]) -> bool:
    return any(name == t or name.endswith("." + t) for t in targets)


def _find_targets(model: nn.Module, targets: list[str]) -> list[str]:
    found = [n for n, m in model.named_modules() if n and _matches(n, targets)]
    if not found:
        linear = [n for n, m in model.named_modules() if _wrappable(m)][:8]
        raise ValueError(f"target_modules: {targets} matched no module in "
                         f"{type(model).__name__}; linear layers include {linear}")
    for name in found:
        module = model.get_submodule(name)
        if not _wrappable(module):
            raise ValueError(f"target_modules: {name!r} is a {type(module).__name__}; LoRA "
                             "wraps only nn.Linear and transformers' Conv1D layers")
    return found


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def apply_lora(model: nn.Module, target_modules: str | list[str], r: int = 8,
               alpha: float = 16.0, dropout: float = 0.0, *,
               backend: str | None = None) -> nn.Module:
    """Freeze `model` and wrap each targeted layer with a trainable LoRA update, in place.

    Args:
        model: a transformers model (or any nn.Module).
        target_modules: module names or name suffixes, e.g. ["query", "value"] (BERT) or
            ["c_attn", "c_proj"] (GPT-2).
        r: rank, 1 <= r <= min(in, out) of every targeted layer.
        alpha: the update is scaled by alpha / r.
        dropout: dropout on the LoRA path's input.
        backend: `lora_linear` backend (None: by device).

    Returns:
        The same model; only `lora_A` / `lora_B` parameters require grad.
    """
    targets = [target_modules] if isinstance(target_modules, str) else list(target_modules)
    if not 0 <= dropout < 1:
        raise ValueError(f"dropout: expected a probability in [0, 1), got {dropout}")
    names = _find_targets(model, targets)
    for name in names:  # check every layer before changing any: a failure leaves no trace
        w = model.get_submodule(name).weight
        k, n = w.shape if not isinstance(model.get_submodule(name), nn.Linear) else w.shape[::-1]
        reference.check_rank(r, k, n)
    model.requires_grad_(False)
    for name in names:
        _set_submodule(model, name, LoRALayer(model.get_submodule(name), r, alpha, dropout,
                                              backend))
    model.lora_config = {"target_modules": targets, "r": r, "alpha": alpha, "dropout": dropout}
    return model


def lora_layers(model: nn.Module) -> dict[str, LoRALayer]:
    """Every LoRALayer in `model`, by module name."""
    return {n: m for n, m in model.named_modules() if isinstance(m, LoRALayer)}


def merge_lora(model: nn.Module) -> nn.Module:
    """Fold every adapter into its base weight and put the plain layers back, in place."""
    for name, layer in lora_layers(model).items():
        layer.merge()
        _set_submodule(model, name, layer.base_layer)
    return model


def trainable_parameters(model: nn.Module) -> tuple[int, int]:
    """(number of parameters that require grad, total number of parameters)."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
