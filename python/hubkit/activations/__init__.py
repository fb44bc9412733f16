"""Activation functions, and the proof op of hubkit's backend mechanism.

`bias_gelu` (fused bias + GELU) is small enough to read in one sitting and has
all four backends: reference (torch), cpp, cuda and triton. Every larger op in
hubkit (conv2d, attention, lora_linear) is registered the same way.
"""
