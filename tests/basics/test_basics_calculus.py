"""Gradient descent, the step-size study and the numerical gradient check."""

import numpy as np
import pytest
import torch

from hubkit.basics.reference import (
    gradient_check,
    gradient_descent,
    numerical_gradient,
    relative_error,
    step_size_study,
)

A = np.array([[3.0, 0.5], [0.5, 1.0]])  # symmetric positive definite, eigenvalues ~3.1, ~0.9


def quad(x):
    return 0.5 * float(x @ A @ x)


def quad_grad(x):
    return A @ x


def rosenbrock(x):
    return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)


def test_gradient_descent_converges_on_a_quadratic():
    r = gradient_descent(quad, quad_grad, np.array([2.0, -3.0]), lr=0.3, steps=200)
    np.testing.assert_allclose(r.x, 0.0, atol=1e-8)
    assert not r.diverged
    assert np.all(np.diff(r.values) <= 1e-15)  # monotone for lr < 2 / lambda_max


def test_gradient_descent_matches_torch_sgd_path():
    x0 = np.array([-1.2, 1.0])
    t = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([t], lr=1e-3)
    path = [t.detach().clone()]
    for _ in range(50):
        opt.zero_grad()
        ((1 - t[0]) ** 2 + 100 * (t[1] - t[0] ** 2) ** 2).backward()
        opt.step()
        path.append(t.detach().clone())

    def rosen_grad(x):
        return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                         200 * (x[1] - x[0] ** 2)])
    r = gradient_descent(rosenbrock, rosen_grad, x0, lr=1e-3, steps=50)
    np.testing.assert_allclose(r.path, torch.stack(path).numpy(), rtol=1e-12, atol=1e-14)


def test_gradient_descent_flags_divergence_past_two_over_curvature():
    lam_max = np.linalg.eigvalsh(A).max()
    r = gradient_descent(quad, quad_grad, np.ones(2), lr=2.2 / lam_max, steps=10_000)
    assert r.diverged and len(r.values) < 10_001


def test_gradient_descent_leaves_x0_alone():
    x0 = np.array([1.0, 2.0])
    gradient_descent(quad, quad_grad, x0, lr=0.1, steps=5)
    np.testing.assert_array_equal(x0, [1.0, 2.0])


def test_gradient_descent_rejects_non_positive_lr():
    with pytest.raises(ValueError, match="^lr:"):
        gradient_descent(quad, quad_grad, np.ones(2), lr=0.0, steps=1)


def test_step_size_study_orders_small_good_and_too_large():
    s = step_size_study(quad, quad_grad, np.ones(2), [0.01, 0.5, 0.7], steps=40)
    finals = s.final_values()
    assert finals[1] < finals[0]  # bigger but stable beats tiny
    assert s.results[2].values[-1] > s.results[2].values[0]  # 0.7 > 2 / 3.1 oscillates out
    assert s.best_lr() == 0.5


def test_numerical_gradient_matches_torch_autograd():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))

    def f(v):
        return float(np.sum(np.tanh(v) ** 2 * np.exp(0.3 * v)))
    t = torch.tensor(x, requires_grad=True)
    (torch.tanh(t) ** 2 * torch.exp(0.3 * t)).sum().backward()
    num = numerical_gradient(f, x)
    assert num.shape == x.shape
    assert relative_error(num, t.grad.numpy()) < 1e-7


def test_numerical_gradient_restores_x():
    x = np.array([0.5, -1.5, 2.0])
    numerical_gradient(lambda v: float(np.sum(v ** 3)), x)
    np.testing.assert_array_equal(x, [0.5, -1.5, 2.0])


def test_central_difference_beats_forward_difference():
    x = np.array([0.7])
    exact = np.cos(x)
    central = numerical_gradient(lambda v: float(np.sin(v[0])), x, eps=1e-4)
    forward = (np.sin(x + 1e-4) - np.sin(x)) / 1e-4
    assert abs(central - exact)[0] < 1e-3 * abs(forward - exact)[0]


def test_gradient_check_accepts_right_and_rejects_wrong_gradient():
    x = np.array([0.3, -0.8, 1.1])
    ok, err = gradient_check(quad3 := (lambda v: float(np.sum(v ** 3))), lambda v: 3 * v ** 2, x)
    assert ok and err < 1e-8
    ok, err = gradient_check(quad3, lambda v: 3 * v, x)  # missing a power
    assert not ok and err > 1e-2


def test_relative_error_is_zero_for_equal_and_one_for_opposite():
    a = np.array([1.0, -2.0])
    assert relative_error(a, a) == 0.0
    assert relative_error(a, -a) == 1.0


def test_relative_error_rejects_shape_mismatch():
    with pytest.raises(ValueError, match="^b:"):
        relative_error(np.ones(2), np.ones(3))


def test_gradient_check_verifies_batch_norm_backward():
    from hubkit.basics.reference import batch_norm_backward, batch_norm_train

    rng = np.random.default_rng(5)
    x, dy = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    gamma, beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)

    def loss(v):  # <dy, bn(v)>: its gradient in v is exactly the backward's dx
        return float((batch_norm_train(v.reshape(6, 3), gamma, beta)[0] * dy).sum())

    def dx(v):
        _, _, _, cache = batch_norm_train(v.reshape(6, 3), gamma, beta)
        return batch_norm_backward(dy, cache)[0].reshape(-1)
    ok, err = gradient_check(loss, dx, x.reshape(-1), tol=1e-6)
    assert ok, err


def test_gradient_check_verifies_scalar_autograd():
    from hubkit.basics.reference import Value

    def build(v, lift):
        a, b, c = (lift(x) for x in v)
        return ((a * b).tanh() + (c ** 2 + 1.0).log() * a - b / (c.exp() + 1.0)) ** 2

    def f(v):
        return build(v, Value).data

    def grad(v):
        leaves = [Value(x) for x in v]
        build(leaves, lambda leaf: leaf).backward()
        return np.array([leaf.grad for leaf in leaves])
    ok, err = gradient_check(f, grad, np.array([0.4, -1.1, 0.7]))
    assert ok, err
