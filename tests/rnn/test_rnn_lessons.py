"""hubkit.rnn.lessons: vanishing and exploding gradients, clipping, truncated BPTT."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import hubkit
from hubkit.rnn import lessons


def _decay(norms: torch.Tensor) -> float:
    """How much of the last step's gradient reaches the first step."""
    return float(norms[0] / norms[-1])


def test_vanilla_rnn_gradient_vanishes_with_small_and_explodes_with_large_weights():
    assert _decay(lessons.gradient_norms(lessons.make_model("RNN", 8, 32, 0.8), 60)) < 1e-6
    assert _decay(lessons.gradient_norms(lessons.make_model("RNN", 8, 32, 3.0), 60)) > 1e3


def test_lstm_with_forget_bias_keeps_far_more_gradient_than_the_rnn():
    rnn = lessons.gradient_norms(lessons.make_model("RNN", 8, 32, 0.8), 60)
    lstm = lessons.gradient_norms(lessons.make_model("LSTM", 8, 32, 0.8, forget_bias=1.0), 60)
    assert _decay(lstm) > 1e3 * _decay(rnn)


def test_gradient_norm_plot_is_a_png(tmp_path):
    path = lessons.plot_gradient_norms(tmp_path / "grads.png", steps=8, hidden=4)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("max_norm", [0.1, 100.0])
def test_clip_grad_norm_matches_torch(max_norm, gen):
    ours = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    for a, b in zip(ours, theirs, strict=True):
        a.grad = torch.randn(a.shape, generator=gen)
        b.grad = a.grad.clone()
    total = lessons.clip_grad_norm(ours, max_norm)
    want = nn.utils.clip_grad_norm_(theirs, max_norm)
    assert total == pytest.approx(float(want), rel=1e-6)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a.grad, b.grad)


def test_clipping_fixes_the_exploding_rnn():
    unclipped = lessons.train_memory_task(None)
    clipped = lessons.train_memory_task(1.0)
    assert max(unclipped) > 1e6  # diverged
    assert all(math.isfinite(v) for v in clipped)
    assert sum(clipped[-10:]) / 10 < clipped[0] / 2  # and learned


def _tbptt_setup(seed: int = 0):
    torch.manual_seed(seed)
    model = hubkit.nn.LSTM(2, 5, dtype=torch.float64)
    head = nn.Linear(5, 1, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(12, 3, 2, generator=gen, dtype=torch.float64)
    y = torch.randn(12, 3, 1, generator=gen, dtype=torch.float64)
    return model, head, x, y


def _mse(a, b):
    return (a - b).pow(2).mean()


def test_truncated_bptt_carries_the_state_across_chunks():
    model, head, x, y = _tbptt_setup()
    opt = torch.optim.SGD([*model.parameters(), *head.parameters()], lr=0.0)
    losses = lessons.truncated_bptt(model, head, x, y, 4, opt, _mse)
    with torch.no_grad():
        full = head(model(x)[0])
    want = [float(_mse(full[s:s + 4], y[s:s + 4])) for s in range(0, 12, 4)]
    assert losses == pytest.approx(want, rel=1e-12)


def test_truncated_bptt_cuts_the_gradient_at_the_chunk_boundary():
    model, head, x, y = _tbptt_setup()
    params = [*model.parameters(), *head.parameters()]
    lessons.truncated_bptt(model, head, x, y, 4, torch.optim.SGD(params, lr=0.0), _mse)
    got = [p.grad.clone() for p in params]  # the last chunk's gradients
    with torch.no_grad():
        _, state = model(x[:8])
    out, _ = model(x[8:], state)  # the last chunk from a constant state
    want = torch.autograd.grad(_mse(head(out), y[8:]), params)
    full_out, _ = model(x)
    full = torch.autograd.grad(_mse(head(full_out[8:]), y[8:]), params)
    for g, w in zip(got, want, strict=True):
        torch.testing.assert_close(g, w)
    assert not torch.allclose(got[0], full[0])  # full BPTT differs: it reaches back further
