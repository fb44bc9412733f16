"""hubkit.lm.model: the GPT's shapes, loss, KV cache and generation."""

from __future__ import annotations

import pytest
import torch

from hubkit.lm.model import GPT, GPTConfig, KVCache, cached_attention

TINY = GPTConfig(vocab_size=37, block_size=24, n_layer=2, n_head=2, n_embd=16)


def _model(cfg: GPTConfig = TINY, seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(cfg).eval()


def test_default_config_is_about_ten_million_parameters():
    n = GPT(GPTConfig()).num_params()
    assert 9e6 < n < 13e6


def test_forward_gives_logits_and_the_mean_cross_entropy():
    model = _model()
    ids = torch.randint(0, 37, (3, 10))
    logits, loss = model(ids, ids)
    assert logits.shape == (3, 10, 37)
    want = torch.nn.functional.cross_entropy(logits.flatten(0, 1), ids.flatten())
    torch.testing.assert_close(loss, want)


def test_output_at_a_position_ignores_later_tokens():
    model = _model()
    ids = torch.randint(0, 37, (1, 10))
    other = ids.clone()
    other[0, 6:] = (other[0, 6:] + 1) % 37
    a, _ = model(ids)
    b, _ = model(other)
    torch.testing.assert_close(a[:, :6], b[:, :6])
    assert not torch.allclose(a[:, 6:], b[:, 6:])


def test_incremental_logits_with_cache_match_the_full_pass():
    model = _model()
    ids = torch.randint(0, 37, (2, 12))
    full, _ = model(ids)
    cache = KVCache(TINY.n_layer)
    steps = [model(ids[:, :5], cache=cache)[0]]  # a prompt of 5, then one token at a time
    steps += [model(ids[:, t:t + 1], cache=cache)[0] for t in range(5, 12)]
    torch.testing.assert_close(torch.cat(steps, 1), full, rtol=1e-5, atol=1e-5)
    assert cache.length == 12


def test_a_chunk_after_a_cached_prefix_matches_the_full_pass():
    model = _model()
    ids = torch.randint(0, 37, (2, 11))
    full, _ = model(ids)
    cache = KVCache(TINY.n_layer)
    model(ids[:, :4], cache=cache)
    chunk, _ = model(ids[:, 4:], cache=cache)  # 7 new tokens over 4 cached: bottom-right mask
    torch.testing.assert_close(chunk, full[:, 4:], rtol=1e-5, atol=1e-5)


def test_cached_attention_masks_bottom_right():
    q = torch.randn(1, 1, 3, 4)
    k = v = torch.randn(1, 1, 5, 4)
    out = cached_attention(q, k, v)
    for i in range(3):  # new query i sits at position 2 + i and sees keys 0..2+i
        w = torch.softmax(q[0, 0, i] @ k[0, 0, :3 + i].T / 2.0, -1)
        torch.testing.assert_close(out[0, 0, i], w @ v[0, 0, :3 + i])


@pytest.mark.parametrize("kwargs", [
    {"temperature": 0.0},
    {"temperature": 1.0},
    {"temperature": 0.8, "top_k": 5},
    {"temperature": 1.2, "top_p": 0.9},
])
def test_generation_with_and_without_cache_is_identical(kwargs):
    model = _model()
    prompt = torch.randint(0, 37, (2, 3))
    runs = []
    for use_cache in (True, False):
        gen = torch.Generator().manual_seed(7)
        runs.append(model.generate(prompt, 30, generator=gen, use_cache=use_cache, **kwargs))
    assert runs[0].shape == (2, 33)  # 3 + 30 > block_size 24: the window slides too
    assert torch.equal(runs[0], runs[1])
    assert torch.equal(runs[0][:, :3], prompt)


def test_seeded_sampling_repeats_and_different_seeds_differ():
    model = _model()
    prompt = torch.zeros(1, 1, dtype=torch.long)
    a, b, c = (model.generate(prompt, 20, generator=torch.Generator().manual_seed(s))
               for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_generate_stops_when_every_row_has_produced_eos():
    model = _model()
    prompt = torch.zeros(1, 2, dtype=torch.long)
    first = int(model.generate(prompt, 1, temperature=0.0)[0, -1])
    out = model.generate(prompt, 10, temperature=0.0, eos=first)
    assert out.shape == (1, 3)


def test_generate_restores_training_mode():
    model = _model().train()
    model.generate(torch.zeros(1, 1, dtype=torch.long), 2)
    assert model.training


def test_too_long_input_names_block_size():
    with pytest.raises(ValueError, match="block_size"):
        _model()(torch.zeros(1, 25, dtype=torch.long))


@pytest.mark.parametrize("field,value", [("n_head", 3), ("n_layer", 0), ("dropout", 1.0)])
def test_bad_config_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        GPTConfig(**{**TINY.__dict__, field: value})


def test_weights_are_tied_and_the_model_learns_a_repeated_sequence():
    model = _model().train()
    assert model.lm_head.weight is model.wte.weight
    ids = torch.arange(16).remainder(5)[None].repeat(4, 1)  # 0 1 2 3 4 0 1 ...
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(80):
        _, loss = model(ids[:, :-1], ids[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.3
