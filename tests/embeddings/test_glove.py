"""hubkit.embeddings.glove: counts, the loss and its gradients against autograd, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hubkit.embeddings import corpus, glove


def test_cooccurrence_weights_by_inverse_distance_inside_sentences():
    c = corpus.build([["a", "b", "c"], ["c", "a"]], min_count=1)
    rows, cols, x = glove.cooccurrence(c, window=2)
    got = {(c.words[r], c.words[k]): v for r, k, v in zip(rows, cols, x, strict=True)}
    assert got == {("a", "b"): 1.0, ("b", "a"): 1.0, ("b", "c"): 1.0, ("c", "b"): 1.0,
                   ("a", "c"): 1.5, ("c", "a"): 1.5}  # 1/2 in sentence one, 1 in two


def test_loss_and_grads_match_torch_autograd():
    rng = np.random.default_rng(0)
    v, d = 6, 4
    arrays = [rng.normal(size=(v, d)), rng.normal(size=(v, d)), rng.normal(size=v),
              rng.normal(size=v)]
    rows, cols = np.array([0, 1, 1, 5, 3]), np.array([2, 2, 0, 5, 1])
    x = np.array([0.5, 3.0, 150.0, 1.0, 20.0])
    w, wc, b, bc = (torch.tensor(a, requires_grad=True) for a in arrays)
    tx = torch.tensor(x)
    f = torch.clamp(tx / 100.0, max=1.0) ** 0.75
    err = (w[rows] * wc[cols]).sum(1) + b[rows] + bc[cols] - torch.log(tx)
    want = (f * err ** 2).sum()
    want.backward()
    loss, *grads = glove.loss_and_grads(*arrays, rows, cols, x)
    assert loss == pytest.approx(want.item())
    for got, t in zip(grads, (w, wc, b, bc), strict=True):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_training_fits_the_log_counts():
    rng = np.random.default_rng(1)
    sents = [[f"w{j}" for j in rng.integers(0, 12, 10)] for _ in range(300)]
    c = corpus.build(sents, min_count=1)
    model = glove.train(c, glove.GloVeConfig(dim=8, window=3, epochs=30, batch=256, lr=0.1))
    assert model.vectors.shape == (12, 8)
    assert model.history[-1] < 0.3 * model.history[0]
