"""hubkit layers: drop-in nn.Modules backed by hubkit ops.

A thin facade: each layer lives in its topic slice (`hubkit.<topic>.layers`).
"""

from hubkit.activations.layers import LinearGELU
from hubkit.attention.layers import (
    MultiheadAttention,
    Transformer,
    TransformerDecoderLayer,
    TransformerEncoderLayer,
)

__all__ = [
    "LinearGELU",
    "MultiheadAttention",
    "Transformer",
    "TransformerDecoderLayer",
    "TransformerEncoderLayer",
]
