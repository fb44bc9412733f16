"""Triton exact top-k similarity (block of keys per program, in-register top-k)."""

from hubkit.kernels.search.v1_block_topk import topk_similarity_triton

__all__ = ["topk_similarity_triton"]
