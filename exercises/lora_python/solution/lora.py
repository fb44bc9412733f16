"""LoRA from scratch: a frozen linear layer plus a trainable low-rank update.

    y = x W^T + b + (alpha / r) * (x A^T) B^T,    A (r, in), B (out, r)

Hu et al., 2021, https://arxiv.org/abs/2106.09685
"""

import math

import torch
from torch import nn


class LoRALinear(nn.Module):
    """A frozen nn.Linear `base` adapted by the low-rank update scale * B A.

    Attributes your code must set (the checker reads them):
        base: the frozen nn.Linear (out, in).
        lora_a: nn.Parameter (r, in), Kaiming-uniform random at the start.
        lora_b: nn.Parameter (out, r), zeros at the start.
        scale: alpha / r.
    """

    def __init__(self, base: nn.Linear, r: int, alpha: float):
        super().__init__()
        # BEGIN SOLUTION
        # starter> # Step 1: keep `base` as self.base and freeze it (weight and bias).
        # starter> # Step 2: self.lora_a = nn.Parameter (r, in), Kaiming-uniform like nn.Linear;
        # starter> #         self.lora_b = nn.Parameter (out, r), zeros.
        # starter> # Step 3: self.scale = alpha / r.
        # starter> raise NotImplementedError("not implemented yet")
        out_features, in_features = base.weight.shape
        self.base = base
        self.base.requires_grad_(False)
        w = base.weight
        self.lora_a = nn.Parameter(torch.empty(r, in_features, dtype=w.dtype, device=w.device))
        self.lora_b = nn.Parameter(torch.zeros(out_features, r, dtype=w.dtype, device=w.device))
        nn.init.kaiming_uniform_(self.lora_a, a=math.sqrt(5))
        self.scale = alpha / r
        # END SOLUTION

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(..., in) -> (..., out)."""
        # BEGIN SOLUTION
        # starter> # Step 4: the base layer's output plus scale * (x A^T) B^T.
        # starter> raise NotImplementedError("not implemented yet")
        return self.base(x) + self.scale * ((x @ self.lora_a.t()) @ self.lora_b.t())
        # END SOLUTION

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into self.base.weight, so self.base alone computes forward."""
        # BEGIN SOLUTION
        # starter> # Step 5: add scale * B A to the base weight, in place.
        # starter> raise NotImplementedError("not implemented yet")
        self.base.weight += self.scale * (self.lora_b @ self.lora_a)
        # END SOLUTION
