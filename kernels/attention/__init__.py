"""Triton fused attention (FlashAttention-2 style), forward and backward."""

from hubkit.kernels.attention.v1_flash import HEAD_DIMS, attention_backward, attention_forward

__all__ = ["HEAD_DIMS", "attention_backward", "attention_forward"]
