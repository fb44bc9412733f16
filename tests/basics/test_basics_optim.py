"""SGD, Momentum, Adam and AdamW against torch.optim, step for step in float64."""

import numpy as np
import pytest
import torch

from hubkit.basics.reference import SGD, Adam, AdamW, Momentum

STEPS = 200


def loss_and_grads(params, targets):
    """A non-quadratic loss and its gradients, computed by torch for either side."""
    leaves = [torch.tensor(p, requires_grad=True) for p in params]
    loss = sum(((t - torch.from_numpy(y)) ** 4 + torch.sin(3 * t)).sum()
               for t, y in zip(leaves, targets, strict=True))
    loss.backward()
    return [t.grad.numpy() for t in leaves]


def run_both(make_ours, make_torch, steps=STEPS, seed=0):
    """Drive both optimizers, each with the gradient at its own current parameters.

    The gradient depends on the parameters, so a difference in one step changes
    every later gradient and shows up in the final comparison. A shared noise
    term (as in minibatch SGD) keeps the second moment away from zero.
    # subtle: without it Adam settles where g -> 0, v -> 0 and the normalized step
    # turns chaotic, amplifying torch's fused multiply-add rounding (1 ulp) to 1e-10.
    """
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (5,), (1,)]
    init = [rng.standard_normal(s) for s in shapes]
    targets = [rng.standard_normal(s) for s in shapes]
    ours = [p.copy() for p in init]
    theirs = [torch.tensor(p, requires_grad=True) for p in init]
    opt, topt = make_ours(ours), make_torch(theirs)
    for _ in range(steps):
        noise = [0.5 * rng.standard_normal(s) for s in shapes]
        opt.step([g + n for g, n in zip(loss_and_grads(ours, targets), noise, strict=True)])
        their_grads = loss_and_grads([t.detach().numpy() for t in theirs], targets)
        for t, g, n in zip(theirs, their_grads, noise, strict=True):
            t.grad = torch.from_numpy(g + n)
        topt.step()
    return ours, [t.detach().numpy() for t in theirs]


def assert_same(pair):
    for a, b in zip(*pair, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("wd", [0.0, 0.05])
def test_sgd_matches_torch(wd):
    assert_same(run_both(lambda p: SGD(p, lr=0.01, weight_decay=wd),
                         lambda p: torch.optim.SGD(p, lr=0.01, weight_decay=wd)))


@pytest.mark.parametrize("nesterov,dampening,wd", [(False, 0.0, 0.0), (False, 0.3, 0.01),
                                                   (True, 0.0, 0.0), (True, 0.0, 0.02)])
def test_momentum_matches_torch_sgd_with_momentum(nesterov, dampening, wd):
    kw = dict(lr=0.005, momentum=0.85, dampening=dampening, nesterov=nesterov, weight_decay=wd)
    assert_same(run_both(lambda p: Momentum(p, **kw), lambda p: torch.optim.SGD(p, **kw)))


@pytest.mark.parametrize("wd", [0.0, 0.1])
def test_adam_matches_torch(wd):
    kw = dict(lr=0.02, betas=(0.8, 0.95), eps=1e-6, weight_decay=wd)
    assert_same(run_both(lambda p: Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw)))


@pytest.mark.parametrize("wd", [0.0, 0.01, 0.3])
def test_adamw_matches_torch(wd):
    kw = dict(lr=0.02, betas=(0.9, 0.99), eps=1e-8, weight_decay=wd)
    assert_same(run_both(lambda p: AdamW(p, **kw), lambda p: torch.optim.AdamW(p, **kw)))


def test_adamw_with_decay_differs_from_adam_with_l2():
    kw = dict(lr=0.02, weight_decay=0.3)
    adamw, _ = run_both(lambda p: AdamW(p, **kw), lambda p: torch.optim.AdamW(p, **kw), steps=30)
    adam, _ = run_both(lambda p: Adam(p, **kw), lambda p: torch.optim.Adam(p, **kw), steps=30)
    assert np.abs(adamw[0] - adam[0]).max() > 1e-3


def test_optimizer_follows_lr_changed_between_steps():
    def ours(p):
        return Adam(p, lr=0.05)

    def theirs(p):
        return torch.optim.Adam(p, lr=0.05)
    rng = np.random.default_rng(1)
    w = rng.standard_normal(4)
    a, t = ours([w.copy()]), theirs([torch.tensor(w, requires_grad=False)])
    for step in range(20):
        g = rng.standard_normal(4)
        t.param_groups[0]["params"][0].grad = torch.tensor(g)
        a.lr = t.param_groups[0]["lr"] = 0.05 * 0.9 ** step
        a.step([g])
        t.step()
    np.testing.assert_allclose(a.params[0], t.param_groups[0]["params"][0].numpy(), rtol=1e-12)


def test_step_updates_params_in_place():
    w = np.ones(3)
    SGD([w], lr=0.5).step([np.ones(3)])
    np.testing.assert_array_equal(w, 0.5)


def test_step_rejects_wrong_gradient_shape_naming_index():
    opt = Adam([np.ones(3), np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match=r"^grads\[1\]:"):
        opt.step([np.ones(3), np.ones(3)])


def test_step_rejects_wrong_gradient_count():
    with pytest.raises(ValueError, match="^grads:"):
        SGD([np.ones(3)], lr=0.1).step([])


def test_optimizer_rejects_integer_params():
    with pytest.raises(ValueError, match=r"^params\[0\]:"):
        SGD([np.ones(3, dtype=np.int64)], lr=0.1)


def test_nesterov_rejects_dampening():
    with pytest.raises(ValueError, match="^nesterov:"):
        Momentum([np.ones(1)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
