"""Foundations (outline Parts 1-3): matmul, gradients, autograd, optimizers, normalization.

The readable references are re-exported from `hubkit.basics.reference`.
"""
