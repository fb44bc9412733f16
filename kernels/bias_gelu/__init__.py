"""Triton fused bias + GELU."""

from hubkit.kernels.bias_gelu.v1_elementwise import bias_gelu_backward, bias_gelu_forward

__all__ = ["bias_gelu_backward", "bias_gelu_forward"]
