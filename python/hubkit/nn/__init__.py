"""hubkit layers: drop-in nn.Modules backed by hubkit ops.

A thin facade: each layer lives in its topic slice (`hubkit.<topic>.layers`).
"""

from hubkit.activations.layers import LinearGELU
from hubkit.cnn.layers import AvgPool2d, Conv2d, LeNet5, MaxPool2d, ResNet18

__all__ = ["AvgPool2d", "Conv2d", "LeNet5", "LinearGELU", "MaxPool2d", "ResNet18"]
