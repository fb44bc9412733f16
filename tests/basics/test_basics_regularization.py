"""Dropout and batch norm against torch.nn, in train and eval mode."""

import numpy as np
import pytest
import torch

from hubkit.basics.reference import BatchNorm, dropout

# ---------------------------------------------------------------- dropout


def test_dropout_eval_is_identity_and_copies():
    x = np.random.default_rng(0).standard_normal((4, 5))
    y, mask = dropout(x, 0.7, np.random.default_rng(1), training=False)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(mask, 1.0)
    assert y is not x


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_drop_rate_and_mean_are_right_statistically(p):
    n = 200_000
    y, _ = dropout(np.ones(n), p, np.random.default_rng(2))
    dropped = np.mean(y == 0)
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 5 * sigma
    np.testing.assert_allclose(y[y != 0], 1 / (1 - p))  # survivors carry the inverted scale
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(p / (1 - p) / n)  # expectation preserved


def test_dropout_values_and_gradient_match_torch_dropout():
    x = np.full(100_000, 3.0)
    y, mask = dropout(x, 0.25, np.random.default_rng(3))
    torch.manual_seed(0)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.dropout(tx, 0.25, training=True)
    ty.sum().backward()
    assert set(np.unique(y)) == set(np.unique(ty.detach().numpy())) == {0.0, 4.0}
    assert abs(np.mean(y == 0) - np.mean(ty.detach().numpy() == 0)) < 0.01
    # the backward multiplier is the scaled mask in both: {0, 1 / (1 - p)}
    assert set(np.unique(mask)) == set(np.unique(tx.grad.numpy())) == {0.0, 4.0 / 3}
    np.testing.assert_array_equal(y, x * mask)


def test_dropout_with_p_one_drops_everything_and_p_zero_keeps_all():
    x = np.ones(10)
    np.testing.assert_array_equal(dropout(x, 1.0, np.random.default_rng(0))[0], 0.0)
    np.testing.assert_array_equal(dropout(x, 0.0, np.random.default_rng(0))[0], 1.0)


def test_dropout_rejects_bad_probability():
    with pytest.raises(ValueError, match="^p:"):
        dropout(np.ones(3), 1.5, np.random.default_rng(0))


# ---------------------------------------------------------------- batch norm

CASES = [((7, 3), torch.nn.BatchNorm1d), ((5, 4, 6), torch.nn.BatchNorm1d),
         ((3, 2, 5, 7), torch.nn.BatchNorm2d)]


def make_pair(shape, torch_cls, momentum=0.1, eps=1e-5, seed=0):
    rng = np.random.default_rng(seed)
    c = shape[1]
    ours = BatchNorm(c, eps=eps, momentum=momentum)
    ours.gamma, ours.beta = rng.uniform(0.5, 2, c), rng.standard_normal(c)
    theirs = torch_cls(c, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.gamma))
        theirs.bias.copy_(torch.from_numpy(ours.beta))
    return ours, theirs, rng


@pytest.mark.parametrize("shape,torch_cls", CASES)
def test_batchnorm_train_forward_backward_and_running_stats_match_torch(shape, torch_cls):
    ours, theirs, rng = make_pair(shape, torch_cls, momentum=0.3)
    for _ in range(4):  # several batches: the running statistics compound
        x = 3 * rng.standard_normal(shape) + rng.standard_normal()
        dy = rng.standard_normal(shape)
        y = ours.forward(x, training=True)
        dx, dgamma, dbeta = ours.backward(dy)
        tx = torch.tensor(x, requires_grad=True)
        theirs.zero_grad()
        ty = theirs.train()(tx)
        ty.backward(torch.from_numpy(dy))
        np.testing.assert_allclose(y, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dgamma, theirs.weight.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dbeta, theirs.bias.grad.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
        np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)


@pytest.mark.parametrize("shape,torch_cls", CASES)
def test_batchnorm_eval_uses_running_stats_like_torch(shape, torch_cls):
    ours, theirs, rng = make_pair(shape, torch_cls)
    for _ in range(3):
        x = rng.standard_normal(shape) * 2 + 1
        ours.forward(x, training=True)
        theirs.train()(torch.from_numpy(x))
    x = rng.standard_normal(shape) * 5 - 3  # statistics far from the running ones
    y = ours.forward(x, training=False)
    np.testing.assert_allclose(y, theirs.eval()(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-12, atol=1e-12)
    one = ours.forward(x[:1], training=False)  # a batch of one: same answer, no batch stats
    np.testing.assert_allclose(one, y[:1], rtol=1e-12)


def test_batchnorm_eval_leaves_running_stats_unchanged():
    ours, _, rng = make_pair((6, 3), torch.nn.BatchNorm1d)
    ours.forward(rng.standard_normal((6, 3)), training=True)
    mean, var = ours.running_mean.copy(), ours.running_var.copy()
    ours.forward(rng.standard_normal((6, 3)) + 10, training=False)
    np.testing.assert_array_equal(ours.running_mean, mean)
    np.testing.assert_array_equal(ours.running_var, var)


def test_batchnorm_running_var_is_unbiased():
    bn = BatchNorm(1, momentum=1.0)  # running stats become exactly the batch's
    x = np.array([[1.0], [2.0], [6.0]])
    bn.forward(x, training=True)
    assert bn.running_var[0] == pytest.approx(np.var(x, ddof=1))
    assert bn.running_var[0] != pytest.approx(np.var(x))


def test_batchnorm_rejects_wrong_channel_count():
    with pytest.raises(ValueError, match="^x:"):
        BatchNorm(3).forward(np.ones((4, 2)), training=True)


def test_batchnorm_rejects_single_value_per_channel_in_training():
    with pytest.raises(ValueError, match="^x:"):
        BatchNorm(3).forward(np.ones((1, 3)), training=True)


def test_batchnorm_backward_before_forward_is_an_error():
    with pytest.raises(ValueError, match="^dy:"):
        BatchNorm(2).backward(np.ones((3, 2)))
