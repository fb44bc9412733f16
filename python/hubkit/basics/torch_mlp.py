"""The NumPy MLP redone in PyTorch: tensors, autograd, nn.Module, devices.

`ManualLinear` is a custom nn.Module whose forward/backward are written by hand
in a `torch.autograd.Function` (dX = dY W, dW = dY^T X, db = sum dY over the
batch), so `manual_vs_autograd` can compare them with the gradients autograd
derives for `nn.Linear`-style code. `TorchMLP` is the same network as
`hubkit.basics.tensorlib.MLP`; `train` fits it on the digits on any device.

Shapes: x (B, D_in), weight (D_out, D_in) as in nn.Linear, bias (D_out,).
"""

from __future__ import annotations

import math

import torch
from torch import nn


class LinearFunction(torch.autograd.Function):
    """y = x W^T + b with a hand-written backward."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        return x @ weight.T + bias  # (B, D_in) @ (D_in, D_out) + (D_out,)

    @staticmethod
    def backward(ctx, grad_y: torch.Tensor):
        x, weight = ctx.saved_tensors
        return grad_y @ weight, grad_y.T @ x, grad_y.sum(dim=0)  # dx, dW, db


class ManualLinear(nn.Module):
    """A custom layer: nn.Linear's parameters and init, LinearFunction's gradients.

    Example:
        >>> layer = ManualLinear(3, 2)
        >>> layer(torch.ones(4, 3)).shape
        torch.Size([4, 2])
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.empty(out_features))
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))  # nn.Linear's default
        bound = 1 / math.sqrt(in_features)
        nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return LinearFunction.apply(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.weight.shape[1]}, out_features={self.weight.shape[0]}"


class TorchMLP(nn.Module):
    """Linear -> ReLU -> ... -> Linear; `manual=True` uses ManualLinear layers.

    Example:
        >>> TorchMLP([64, 32, 10])(torch.zeros(5, 64)).shape
        torch.Size([5, 10])
    """

    def __init__(self, sizes: list[int], manual: bool = False):
        super().__init__()
        make = ManualLinear if manual else nn.Linear
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
            layers.append(make(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def manual_vs_autograd(batch: int = 8, d_in: int = 5, d_out: int = 3,
                       seed: int = 0) -> dict[str, float]:
    """Max |manual - autograd| for dx, dW, db of one linear layer under a random loss."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, d_in, generator=g, dtype=torch.float64)
    w = torch.randn(d_out, d_in, generator=g, dtype=torch.float64)
    b = torch.randn(d_out, generator=g, dtype=torch.float64)
    up = torch.randn(batch, d_out, generator=g, dtype=torch.float64)
    grads = []
    for fn in (LinearFunction.apply, lambda x, w, b: x @ w.T + b):
        leaves = [t.clone().requires_grad_() for t in (x, w, b)]
        (fn(*leaves) * up).sum().backward()
        grads.append([t.grad for t in leaves])
    return {n: float((m - a).abs().max()) for n, m, a in zip(("dx", "dW", "db"), *grads,
                                                               strict=True)}


def digits_tensors(device: str | torch.device = "cpu", seed: int = 0):
    """scikit-learn digits as ((Xtr, ytr), (Xte, yte)) float32/long tensors on `device`."""
    from sklearn.datasets import load_digits

    d = load_digits()
    X = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed))
    cut = int(0.8 * len(X))
    tr, te = order[:cut], order[cut:]
    return (X[tr].to(device), y[tr].to(device)), (X[te].to(device), y[te].to(device))


def train(epochs: int = 10, hidden: int = 64, lr: float = 0.1, manual: bool = False,
          device: str | torch.device = "cpu", seed: int = 0) -> dict:
    """Fit TorchMLP on the digits with SGD + momentum; the model and per-epoch test accuracy."""
    torch.manual_seed(seed)
    (X, y), (Xte, yte) = digits_tensors(device, seed)
    model = TorchMLP([X.shape[1], hidden, 10], manual=manual).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    gen, accs = torch.Generator().manual_seed(seed), []
    for _ in range(epochs):
        for idx in torch.randperm(len(X), generator=gen).split(32):
            idx = idx.to(device)
            loss = nn.functional.cross_entropy(model(X[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            accs.append(float((model(Xte).argmax(1) == yte).float().mean()))
    return {"model": model, "test_accuracy": accs}
