"""Activation functions, written out: the spec every optimized version must match.

GELU (Hendrycks & Gimpel, 2016, https://arxiv.org/abs/1606.08415) weights its
input by the standard normal CDF: gelu(z) = z * Phi(z) = z/2 * (1 + erf(z/sqrt 2)).
Its derivative is Phi(z) + z * phi(z), with phi the normal density.

Shapes: x is (..., C); bias is (C,) and broadcasts over the leading dims.
"""

from __future__ import annotations

import math

import torch


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    """1 / (1 + e^-x), written to avoid overflow for large negative x."""
    e = torch.exp(-x.abs())
    return torch.where(x >= 0, 1 / (1 + e), e / (1 + e))


def relu(x: torch.Tensor) -> torch.Tensor:
    """max(x, 0)."""
    return torch.clamp_min(x, 0)


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """exp(x) / sum exp(x); subtracting the max first keeps exp from overflowing."""
    z = x - x.amax(dim=dim, keepdim=True)
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def gelu(z: torch.Tensor) -> torch.Tensor:
    """Exact GELU: z * Phi(z).

    Example:
        >>> import torch
        >>> round(float(gelu(torch.tensor(1.0))), 4)
        0.8413
    """
    return 0.5 * z * (1 + torch.erf(z / math.sqrt(2)))


def gelu_grad(z: torch.Tensor) -> torch.Tensor:
    """d gelu / dz = Phi(z) + z * phi(z)."""
    cdf = 0.5 * (1 + torch.erf(z / math.sqrt(2)))
    pdf = torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    return cdf + z * pdf


def bias_gelu_reference(x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """gelu(x + bias). x: (..., C), bias: (C,) -> (..., C)."""
    return gelu(x + bias)


def bias_gelu_backward_reference(grad: torch.Tensor, x: torch.Tensor,
                                 bias: torch.Tensor) -> torch.Tensor:
    """Gradient with respect to x (the bias gradient is its sum over leading dims)."""
    return grad * gelu_grad(x + bias)
