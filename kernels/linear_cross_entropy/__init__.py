"""Triton cross-entropy over chunks of logits (online softmax, gradient in place)."""

from hubkit.kernels.linear_cross_entropy.v1_online_softmax import cross_entropy_rows

__all__ = ["cross_entropy_rows"]
