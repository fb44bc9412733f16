"""hubkit layers: drop-in nn.Modules backed by hubkit ops.

A thin facade: each layer lives in its topic slice (`hubkit.<topic>.layers`).
"""

from hubkit.activations.layers import LinearGELU  # noqa: F401
from hubkit.attention.layers import (  # noqa: F401
    MultiheadAttention,
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)
from hubkit.cnn.layers import AvgPool2d, Conv2d, LeNet5, MaxPool2d, ResNet18  # noqa: F401
from hubkit.peft.hf import LoRALayer  # noqa: F401
from hubkit.rnn.layers import GRU, LSTM, RNN  # noqa: F401

__all__ = sorted(name for name in dir() if not name.startswith("_"))
