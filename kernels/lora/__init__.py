"""Triton fused LoRA linear (forward and backward)."""

from hubkit.kernels.lora.v1_fused import lora_backward, lora_forward

__all__ = ["lora_backward", "lora_forward"]
