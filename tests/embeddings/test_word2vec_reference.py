"""The word2vec reference: loss and gradients against autograd and finite differences, the
tables, the schedule, and that training separates words by context."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from embedding_corpora import separation, topic_config, topic_sentences

from hubkit.embeddings import corpus, trainer, word2vec


def _draw(b=3, k=4, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(b, d)), rng.normal(size=(b, d)), rng.normal(size=(b, k, d))


def test_sgns_loss_and_grads_match_torch_autograd():
    v, up, un = _draw()
    tv, tup, tun = (torch.tensor(a, requires_grad=True) for a in (v, up, un))
    pos = (tv * tup).sum(-1)
    neg = torch.einsum("bd,bkd->bk", tv, tun)
    want = -torch.nn.functional.logsigmoid(pos) - torch.nn.functional.logsigmoid(-neg).sum(-1)
    want.sum().backward()
    loss, dv, dup, dun = word2vec.sgns_loss_and_grads(v, up, un)
    np.testing.assert_allclose(loss, want.detach().numpy(), rtol=1e-12)
    for got, t in ((dv, tv), (dup, tup), (dun, tun)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_sgns_grads_match_finite_differences():
    v, up, un = _draw(b=2, k=3, d=4, seed=1)
    _, *grads = word2vec.sgns_loss_and_grads(v, up, un)
    eps = 1e-6
    for arr, grad in zip((v, up, un), grads, strict=True):
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            hi = word2vec.sgns_loss_and_grads(v, up, un)[0].sum()
            arr[idx] = old - eps
            lo = word2vec.sgns_loss_and_grads(v, up, un)[0].sum()
            arr[idx] = old
            assert abs((hi - lo) / (2 * eps) - grad[idx]) < 1e-6


def test_sgns_loss_is_finite_for_huge_scores():
    v = np.full((1, 2), 100.0)
    loss, dv, *_ = word2vec.sgns_loss_and_grads(v, -v, v[:, None, :])
    assert np.isfinite(loss).all() and np.isfinite(dv).all() and loss[0] > 1e4


@pytest.mark.parametrize("inputs", [[2], [1, 3, 1]], ids=["skipgram", "cbow with a repeat"])
def test_sgd_step_moves_every_row_by_minus_lr_times_autograd_grad(inputs):
    rng = np.random.default_rng(2)
    w_in, w_out = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    target, negatives, lr = 0, [4, 3, 4], 0.1  # a negative drawn twice
    t_in, t_out = torch.tensor(w_in, requires_grad=True), torch.tensor(w_out, requires_grad=True)
    v = t_in[inputs].mean(0)
    loss = (-torch.nn.functional.logsigmoid(v @ t_out[target])
            - torch.nn.functional.logsigmoid(-(t_out[negatives] @ v)).sum())
    loss.backward()
    got_loss = word2vec.sgd_step(w_in, w_out, inputs, target, negatives, lr)
    assert got_loss == pytest.approx(loss.item())
    np.testing.assert_allclose(w_in, t_in.detach().numpy() - lr * t_in.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(w_out, t_out.detach().numpy() - lr * t_out.grad.numpy(),
                               atol=1e-12)


def test_keep_probabilities_follow_word2vecs_formula():
    counts = np.array([1000, 100, 10, 1])
    t = 1e-2
    f = counts / counts.sum()
    want = np.minimum((np.sqrt(f / t) + 1) * t / f, 1)
    np.testing.assert_allclose(word2vec.keep_probabilities(counts, t), want, rtol=1e-6)
    assert want[0] < 0.2 and want[-1] == 1.0  # the frequent word is thinned, the rare kept
    assert (word2vec.keep_probabilities(counts, 0.0) == 1).all()


def test_noise_table_follows_unigram_to_the_three_quarters():
    counts = np.array([810, 160, 10, 1])
    table = word2vec.noise_table(counts, 100_000)
    share = np.bincount(table, minlength=4) / len(table)
    want = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(share, want, atol=2e-5)
    assert share[0] < counts[0] / counts.sum()  # the frequent word is drawn less than its share


def test_learning_rate_falls_linearly_from_alpha_to_min_alpha():
    sched = word2vec.Schedule(0.025, 0.0001, base=100, total=400)
    assert sched.lr(-100) == 0.025 and sched.lr(300) == pytest.approx(0.0001)
    assert sched.lr(100) == pytest.approx(0.025 - 0.0249 * 0.5)


@pytest.mark.parametrize("field,value", [("mode", "glove"), ("window", 0), ("negative", 0),
                                         ("min_alpha", 1.0), ("sample", -1.0)])
def test_config_rejects_bad_settings_naming_them(field, value):
    with pytest.raises(ValueError, match=field):
        word2vec.Word2VecConfig(**{field: value})


def test_reference_training_puts_words_of_one_topic_together():
    small = corpus.build(topic_sentences(n=60), min_count=1)
    model = trainer.train(small, topic_config("skipgram", epochs=3, alpha=0.2, window=2),
                          backend="reference", chunk_words=500)
    assert model.history[-1]["loss"] < model.history[0]["loss"]
    assert separation(model) > 0.3


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
def test_reference_training_separates_topics_in_both_modes(topics, mode):
    model = trainer.train(topics, topic_config(mode), backend="reference")
    assert separation(model) > 0.3
