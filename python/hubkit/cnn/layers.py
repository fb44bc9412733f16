"""Convolution layers on `hubkit.ops.conv2d`, and the classic networks built from them.

`Conv2d` is a drop-in for `torch.nn.Conv2d`: same constructor, same parameters
and `state_dict` keys (so a torch checkpoint loads as is), same padding
strings and padding modes; only the convolution itself runs through hubkit's op.

Networks:
    LeNet5    LeCun et al., 1998, http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf
    ResNet18  He et al., 2015, https://arxiv.org/abs/1512.03385, CIFAR variant
              (3x3 stem, no max-pool) as used for 32x32 images.

Shape legend: N batch, C channels, H x W image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from hubkit.cnn.ops import conv2d


class Conv2d(nn.Conv2d):
    """torch.nn.Conv2d whose convolution runs on hubkit's `conv2d` op.

    Args: as torch.nn.Conv2d, plus
        backend: force a hubkit backend ("reference", "cpp", "cuda"); None picks by device.

    Example:
        >>> import torch
        >>> layer = Conv2d(3, 8, 3, padding="same")
        >>> layer(torch.randn(2, 3, 9, 9)).shape
        torch.Size([2, 8, 9, 9])
    """

    def __init__(self, *args, backend: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.backend = backend

    def _same_padding(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
        """padding='same': pad so P == H; an even kernel needs one more on the right."""
        pads = []
        for d, k in zip(self.dilation, self.kernel_size, strict=True):
            total = d * (k - 1)
            pads.append((total // 2, total - total // 2))
        if all(lo == hi for lo, hi in pads):
            return x, (pads[0][0], pads[1][0])
        # subtle: F.pad lists the last dim first: (w_left, w_right, h_top, h_bottom)
        return F.pad(x, (pads[1][0], pads[1][1], pads[0][0], pads[0][1])), (0, 0)

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor,
                      bias: torch.Tensor | None) -> torch.Tensor:
        if x.dim() == 3:  # unbatched (C, H, W), as torch.nn.Conv2d accepts
            return self._conv_forward(x.unsqueeze(0), weight, bias).squeeze(0)
        if x.dim() == 4 and x.shape[1] != self.in_channels:
            raise ValueError(f"input: layer expects {self.in_channels} input channels, input has "
                             f"{x.shape[1]} (shape {tuple(x.shape)}, read as (N, C, H, W))")
        if self.padding_mode != "zeros":
            x = F.pad(x, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = (0, 0)
        elif self.padding == "same":
            x, padding = self._same_padding(x)
        elif self.padding == "valid":
            padding = (0, 0)
        else:
            padding = tuple(self.padding)
        if torch.is_autocast_enabled(x.device.type):
            # subtle: autocast never casts a custom op's inputs; do what it does for conv2d
            dtype = torch.get_autocast_dtype(x.device.type)
            x, weight = x.to(dtype), weight.to(dtype)
            bias = bias.to(dtype) if bias is not None else None
        return conv2d(x, weight, bias, tuple(self.stride), padding, tuple(self.dilation),
                      self.groups, backend=self.backend)


class MaxPool2d(nn.MaxPool2d):
    """torch.nn.MaxPool2d (torch's kernel); `hubkit.cnn.reference.max_pool2d` is its spec."""


class AvgPool2d(nn.AvgPool2d):
    """torch.nn.AvgPool2d (torch's kernel); `hubkit.cnn.reference.avg_pool2d` is its spec."""


class LeNet5(nn.Module):
    """LeNet-5 for 32x32 single-channel images: two conv/pool stages and three linear layers.

    Args:
        num_classes: outputs.
        in_channels: image channels.
        backend: hubkit backend for the convolutions.

    Shapes: (N, in_channels, 32, 32) -> (N, num_classes) logits.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 backend: str | None = None) -> None:
        super().__init__()
        self.features = nn.Sequential(
            Conv2d(in_channels, 6, 5, backend=backend), nn.ReLU(), MaxPool2d(2),  # 28 -> 14
            Conv2d(6, 16, 5, backend=backend), nn.ReLU(), MaxPool2d(2),  # 10 -> 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
            nn.Linear(84, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


class BasicBlock(nn.Module):
    """Two 3x3 convs with batch norm and a shortcut: relu(bn(conv(relu(bn(conv(x))))) + x)."""

    def __init__(self, cin: int, cout: int, stride: int, backend: str | None = None) -> None:
        super().__init__()
        self.conv1 = Conv2d(cin, cout, 3, stride, 1, bias=False, backend=backend)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = Conv2d(cout, cout, 3, 1, 1, bias=False, backend=backend)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:  # 1x1 projection when the shape changes
            self.shortcut = nn.Sequential(Conv2d(cin, cout, 1, stride, bias=False, backend=backend),
                                          nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18 for 32x32 images (CIFAR variant): 3x3 stem, four stages of two blocks.

    Args:
        num_classes: outputs.
        width: channels of the first stage (64 in the paper); doubles each stage.
        backend: hubkit backend for the convolutions.

    Shapes: (N, 3, H, W) -> (N, num_classes) logits.
    """

    def __init__(self, num_classes: int = 10, width: int = 64,
                 backend: str | None = None) -> None:
        super().__init__()
        self.stem = nn.Sequential(Conv2d(3, width, 3, 1, 1, bias=False, backend=backend),
                                  nn.BatchNorm2d(width), nn.ReLU())
        blocks, cin = [], width
        for stage in range(4):
            cout = width * 2**stage
            for i in range(2):
                blocks.append(BasicBlock(cin, cout, 2 if stage > 0 and i == 0 else 1, backend))
                cin = cout
        self.layers = nn.Sequential(*blocks)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.layers(self.stem(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))
