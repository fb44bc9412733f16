"""hubkit.nn.Conv2d as a drop-in for torch.nn.Conv2d, and the networks built from it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import hubkit
from hubkit.cnn.layers import LeNet5, ResNet18

CONFIGS = [
    dict(in_channels=3, out_channels=5, kernel_size=3),
    dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0),
         dilation=(1, 2), groups=2, bias=False),
    dict(in_channels=3, out_channels=4, kernel_size=4, padding="same"),  # even kernel: uneven pad
    dict(in_channels=3, out_channels=4, kernel_size=3, padding="same", dilation=2),
    dict(in_channels=3, out_channels=4, kernel_size=3, padding="valid"),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding=2, padding_mode="reflect"),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding=1, padding_mode="circular"),
    dict(in_channels=2, out_channels=4, kernel_size=3, padding=1, padding_mode="replicate"),
]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()
                                                                 if k not in ("in_channels",)))
def test_conv2d_layer_loads_a_torch_state_dict_and_matches_it(cfg, gen):
    torch_layer = nn.Conv2d(**cfg).double()
    layer = hubkit.nn.Conv2d(**cfg).double()
    assert list(layer.state_dict()) == list(torch_layer.state_dict())
    layer.load_state_dict(torch_layer.state_dict())
    x = torch.randn(2, cfg["in_channels"], 9, 8, generator=gen, dtype=torch.float64)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y, want = layer(x1), torch_layer(x2)
    torch.testing.assert_close(y, want)
    y.square().sum().backward()
    want.square().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(layer.weight.grad, torch_layer.weight.grad)


def test_conv2d_layer_accepts_an_unbatched_image_like_torch(gen):
    torch_layer = nn.Conv2d(2, 3, 3, padding=1)
    layer = hubkit.nn.Conv2d(2, 3, 3, padding=1)
    layer.load_state_dict(torch_layer.state_dict())
    x = torch.randn(2, 5, 6, generator=gen)
    torch.testing.assert_close(layer(x), torch_layer(x))


def test_conv2d_layer_runs_the_backend_it_was_given(monkeypatch):
    seen = []
    real = torch.ops.hubkit.conv2d

    def spy(*args):
        seen.append(args[-1])
        return real(*args)

    monkeypatch.setattr(torch.ops.hubkit, "conv2d", spy)
    hubkit.nn.Conv2d(1, 2, 3, backend="reference")(torch.randn(1, 1, 5, 5))
    assert seen == ["reference"]


def test_lenet5_maps_32x32_images_to_logits_and_trains_a_step(gen):
    model = LeNet5()
    x, y = torch.randn(4, 1, 32, 32, generator=gen), torch.tensor([0, 1, 2, 3])
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    assert model(x).shape == (4, 10)
    assert all(p.grad is not None for p in model.parameters())


def test_resnet18_has_the_paper_parameter_count_and_output_shape(gen):
    model = ResNet18(num_classes=10)
    # CIFAR ResNet-18: 11,173,962 parameters (3x3 stem, 10 classes)
    assert sum(p.numel() for p in model.parameters()) == 11_173_962
    narrow = ResNet18(num_classes=7, width=8)
    out = narrow(torch.randn(2, 3, 32, 32, generator=gen))
    assert out.shape == (2, 7)
    out.sum().backward()
    assert narrow.stem[0].weight.grad is not None


def test_pool_layers_match_the_numpy_reference(gen):
    from hubkit.cnn import reference

    x = torch.randn(2, 3, 9, 8, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(hubkit.nn.MaxPool2d(3, 2, 1)(x).numpy(),
                               reference.max_pool2d(x.numpy(), 3, 2, 1))
    torch.testing.assert_close(hubkit.nn.AvgPool2d(2)(x).numpy(),
                               reference.avg_pool2d(x.numpy(), 2))


@pytest.mark.parametrize("layer,channels", [
    (lambda: hubkit.nn.Conv2d(3, 64, 3), 1),
    (lambda: hubkit.nn.Conv2d(4, 8, 3, groups=2), 2),
])
def test_conv2d_layer_channel_mismatch_is_worded_from_the_layer(layer, channels):
    conv = layer()
    with pytest.raises(ValueError, match=f"layer expects {conv.in_channels} input channels, "
                                         f"input has {channels}"):
        conv(torch.randn(2, channels, 8, 8))
