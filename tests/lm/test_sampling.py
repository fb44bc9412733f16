"""hubkit.lm.sampling: temperature, top-k and top-p keep the right tokens."""

from __future__ import annotations

import pytest
import torch

from hubkit.lm.sampling import filter_logits, sample_next

LOGITS = torch.tensor([[3.0, 1.0, 2.0, 0.0, -1.0]])


def test_top_k_keeps_the_k_largest():
    kept = torch.isfinite(filter_logits(LOGITS, top_k=2))
    assert kept.tolist() == [[True, False, True, False, False]]


def test_top_p_keeps_the_smallest_set_reaching_p():
    probs = torch.softmax(LOGITS, -1)[0]  # 0.64, 0.09, 0.24, 0.03, 0.01
    p = float(probs[0] + probs[2]) - 1e-4  # the two largest just reach p
    kept = torch.isfinite(filter_logits(LOGITS, top_p=p))
    assert kept.tolist() == [[True, False, True, False, False]]
    assert torch.isfinite(filter_logits(LOGITS, top_p=0.01)).sum() == 1  # the best stays


def test_greedy_is_argmax_and_ignores_the_generator():
    assert sample_next(LOGITS, 0.0).tolist() == [[0]]


def test_draws_follow_the_filtered_distribution():
    gen = torch.Generator().manual_seed(0)
    draws = sample_next(LOGITS.repeat(4000, 1), 1.0, top_k=2, generator=gen)[:, 0]
    assert set(draws.tolist()) == {0, 2}
    share = float((draws == 0).float().mean())
    assert abs(share - 1 / (1 + torch.e ** -1)) < 0.03  # softmax over the kept (3, 2)


def test_low_temperature_sharpens():
    gen = torch.Generator().manual_seed(0)
    cold = sample_next(LOGITS.repeat(2000, 1), 0.2, generator=gen)
    hot = sample_next(LOGITS.repeat(2000, 1), 5.0, generator=gen)
    assert (cold == 0).float().mean() > 0.95 > (hot == 0).float().mean()


@pytest.mark.parametrize("kwargs,name", [({"temperature": -1.0}, "temperature"),
                                         ({"top_k": 0}, "top_k"), ({"top_p": 0.0}, "top_p"),
                                         ({"top_p": 1.5}, "top_p")])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        sample_next(LOGITS, **{"temperature": 1.0, **kwargs})
