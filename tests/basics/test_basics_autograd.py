"""The scalar autograd engine and MLP against torch.autograd."""

import math
import random

import pytest
import torch

from hubkit.basics.reference import MLP, Value


def expression(a, b, c, tanh, relu, exp, log):
    """One expression using every operation, written for Value and torch alike."""
    d = a * b + c ** 3 - a / b
    e = tanh(d) * 2.0 + relu(c - 1.5) + relu(a) / 4.0
    f = exp(-(e ** 2)) + log(b * b + 1.0)
    g = 1.0 / (f + 2.0) - 3.0 - a + 0.5 * f
    return g * g + d * e  # a, b, c, d, e each used more than once


def torch_ops():
    return dict(tanh=torch.tanh, relu=torch.relu, exp=torch.exp, log=torch.log)


def value_ops():
    return dict(tanh=Value.tanh, relu=Value.relu, exp=Value.exp, log=Value.log)


@pytest.mark.parametrize("inputs", [(2.0, -3.0, 0.5), (-1.3, 0.7, 2.1), (0.4, 1.9, -0.8)])
def test_value_expression_matches_torch_forward_and_grads(inputs):
    vals = [Value(x) for x in inputs]
    out = expression(*vals, **value_ops())
    out.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in inputs]
    tout = expression(*ts, **torch_ops())
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(vals, ts, strict=True):
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-10, abs=1e-12)


def test_value_reused_node_accumulates_gradient():
    x = Value(3.0)
    y = x + x * x  # dy/dx = 1 + 2x = 7
    y.backward()
    assert x.grad == 7.0


def test_value_reverse_operators_with_plain_numbers():
    x = Value(2.0)
    y = 1 - x + 3 * x - 8 / x + 2 ** 1  # 1 + 2x - 8/x + 2
    y.backward()
    assert y.data == pytest.approx(1 + 4 - 4 + 2)
    assert x.grad == pytest.approx(2 + 8 / 4)


def test_relu_gradient_at_zero_is_zero_like_torch():
    x = Value(0.0)
    x.relu().backward()
    t = torch.tensor(0.0, requires_grad=True)
    torch.relu(t).backward()
    assert x.grad == t.grad.item() == 0.0


def test_deep_chain_backward_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001 ** 5000)


def test_log_rejects_non_positive_input():
    with pytest.raises(ValueError, match="^log:"):
        Value(0.0).log()


def test_pow_rejects_value_exponent():
    with pytest.raises(ValueError, match="^k:"):
        Value(2.0) ** Value(3.0)


def torch_mlp_from(net: MLP) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The same weights as float64 leaf tensors, one (W, b) per layer."""
    layers = []
    for layer in net.layers:
        w = torch.tensor([[p.data for p in n.w] for n in layer], dtype=torch.float64)
        b = torch.tensor([n.b.data for n in layer], dtype=torch.float64)
        layers.append((w.requires_grad_(), b.requires_grad_()))
    return layers


def test_mlp_loss_and_every_parameter_grad_match_torch():
    net = MLP(3, [5, 4, 2], seed=1)
    rng = random.Random(2)
    xs = [[rng.uniform(-2, 2) for _ in range(3)] for _ in range(6)]
    ys = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(6)]
    loss = sum(((o - y) ** 2 for x, t in zip(xs, ys, strict=True)
                for o, y in zip(net(x), t, strict=True)), Value(0.0)) / len(xs)
    loss.backward()

    layers = torch_mlp_from(net)
    h = torch.tensor(xs, dtype=torch.float64)
    for i, (w, b) in enumerate(layers):
        h = h @ w.T + b
        h = torch.tanh(h) if i < len(layers) - 1 else h
    tloss = ((h - torch.tensor(ys, dtype=torch.float64)) ** 2).sum() / len(xs)
    tloss.backward()
    assert loss.data == pytest.approx(tloss.item(), rel=1e-12)
    for layer, (w, b) in zip(net.layers, layers, strict=True):
        for j, neuron in enumerate(layer):
            for k, p in enumerate(neuron.w):
                assert p.grad == pytest.approx(w.grad[j, k].item(), rel=1e-9, abs=1e-12)
            assert neuron.b.grad == pytest.approx(b.grad[j].item(), rel=1e-9, abs=1e-12)


def test_mlp_trains_down_on_a_tiny_regression():
    net = MLP(2, [8, 1], seed=0)
    data = [([x / 2, -x / 3], math.sin(x)) for x in range(-3, 4)]

    def loss_fn():
        return sum(((net(x)[0] - y) ** 2 for x, y in data), Value(0.0))
    first = loss_fn().data
    for _ in range(60):
        net.zero_grad()
        loss = loss_fn()
        loss.backward()
        for p in net.parameters():
            p.data -= 0.02 * p.grad
    assert loss_fn().data < 0.3 * first
