"""hubkit layers: drop-in nn.Modules backed by hubkit ops.

A thin facade: each layer lives in its topic slice (`hubkit.<topic>.layers`).
"""

from hubkit.activations.layers import LinearGELU
from hubkit.peft.hf import LoRALayer

__all__ = ["LinearGELU", "LoRALayer"]
