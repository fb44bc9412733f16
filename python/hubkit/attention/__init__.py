"""Attention and the Transformer: reference, the fused `hubkit::attention` op, layers, training.

`reference` is the readable spec; `ops` registers `hubkit::attention` with a
reference and a Triton (FlashAttention-2 style) backend; `layers` holds
torch.nn-compatible MultiheadAttention and Transformer modules; `train` trains a
small encoder-decoder translator.
"""
