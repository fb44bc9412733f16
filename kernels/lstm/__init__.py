"""Triton fused LSTM cell (forward; the backward runs the reference BPTT)."""

from hubkit.kernels.lstm.v1_fused_cell import lstm_forward

__all__ = ["lstm_forward"]
