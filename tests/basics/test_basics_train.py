"""The optimizer race and the descent-path plot."""

import numpy as np
import pytest
import torch

from hubkit.basics.train import (
    RaceConfig,
    logistic_loss_and_grads,
    make_classification,
    plot_descent_paths,
    race_optimizers,
)


def test_logistic_loss_and_grads_match_torch():
    X, y = make_classification(40, 5, seed=1)
    w, b = np.random.default_rng(2).standard_normal(5), np.array([0.3])
    loss, (dw, db) = logistic_loss_and_grads(w, b, X, y)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    tloss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.from_numpy(X) @ tw + tb, torch.from_numpy(y))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10)


def test_every_optimizer_lowers_the_loss():
    curves = race_optimizers(RaceConfig(steps=60))
    assert set(curves) == {"SGD", "Momentum", "Nesterov", "Adam", "AdamW"}
    for name, curve in curves.items():
        assert curve.shape == (61,)
        assert curve[-1] < 0.8 * curve[0], name  # starts at log 2


def test_race_with_warmup_cosine_schedule_also_trains():
    curves = race_optimizers(RaceConfig(steps=60, schedule=True, warmup=10))
    assert all(c[-1] < 0.8 * c[0] for c in curves.values())


def test_plot_descent_paths_writes_a_png(tmp_path):
    out = plot_descent_paths(lambda v: float(v @ v), lambda v: 2 * v, np.array([2.0, -1.5]),
                             [0.1, 0.9], steps=10, path=tmp_path / "paths.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
