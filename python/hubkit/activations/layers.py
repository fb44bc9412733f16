"""Layers built on the activation ops."""

from __future__ import annotations

import torch
from torch import nn

from hubkit.activations.ops import bias_gelu


class LinearGELU(nn.Linear):
    """gelu(x W^T + b) with the bias add fused into the activation.

    A drop-in for `nn.Sequential(nn.Linear(i, o), nn.GELU())` with the same
    parameters (`weight` (o, i), `bias` (o,)) and state_dict keys as nn.Linear.

    Example:
        >>> import torch
        >>> layer = LinearGELU(4, 3)
        >>> layer(torch.randn(2, 4)).shape
        torch.Size([2, 3])
    """

    def __init__(self, in_features: int, out_features: int, *, backend: str | None = None,
                 device=None, dtype=None) -> None:
        super().__init__(in_features, out_features, bias=True, device=device, dtype=dtype)
        self.backend = backend

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bias_gelu(torch.matmul(x, self.weight.t()), self.bias, backend=self.backend)
