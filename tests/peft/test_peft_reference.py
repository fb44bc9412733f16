"""hubkit.peft.reference: LoRALinear, prompt tuning and prefix tuning."""

from __future__ import annotations

import math

import pytest
import torch

from hubkit.peft import reference


def _layer(gen, k=12, n=7, r=3, alpha=6.0, dropout=0.0):
    torch.manual_seed(0)
    layer = reference.LoRALinear(torch.nn.Linear(k, n), r=r, alpha=alpha, dropout=dropout)
    torch.nn.init.normal_(layer.lora_b, generator=gen)
    return layer


def test_lora_linear_layer_equals_base_plus_scaled_low_rank_update(gen):
    layer = _layer(gen)
    x = torch.randn(4, 5, 12, generator=gen)
    w = layer.base.weight + 2.0 * layer.lora_b @ layer.lora_a  # alpha / r = 6 / 3
    torch.testing.assert_close(layer(x), x @ w.t() + layer.base.bias)


def test_lora_linear_layer_freezes_base_and_trains_a_and_b():
    layer = reference.LoRALinear(torch.nn.Linear(8, 6), r=2)
    assert [n for n, p in layer.named_parameters() if p.requires_grad] == ["lora_a", "lora_b"]


def test_lora_linear_layer_initializes_a_kaiming_uniform_and_b_zero():
    torch.manual_seed(1)
    layer = reference.LoRALinear(torch.nn.Linear(400, 6), r=4)
    bound = 1 / math.sqrt(400)  # kaiming_uniform(a=sqrt 5) on fan_in 400
    assert float(layer.lora_a.detach().abs().max()) <= bound
    assert float(layer.lora_a.detach().abs().max()) > 0.9 * bound  # random, filling the range
    assert float(layer.lora_b.detach().abs().max()) == 0


def test_lora_linear_layer_merge_and_unmerge_keep_outputs_and_restore_weight(gen):
    layer = _layer(gen)
    x = torch.randn(3, 12, generator=gen)
    y, w0 = layer(x), layer.base.weight.clone()
    layer.merge()
    torch.testing.assert_close(layer(x), y)
    torch.testing.assert_close(layer.base(x), y)  # the base layer alone now carries the update
    layer.unmerge()
    torch.testing.assert_close(layer.base.weight, w0)
    torch.testing.assert_close(layer(x), y)


def test_lora_linear_layer_dropout_applies_to_the_lora_path_only(gen):
    layer = _layer(gen, dropout=0.9).train()
    x = torch.randn(64, 12, generator=gen)
    y = layer(x)
    assert not torch.allclose(y, layer.eval()(x))
    layer.lora_b.data.zero_()  # no LoRA path left: dropout must change nothing
    torch.testing.assert_close(layer.train()(x), layer.base(x))


@pytest.mark.parametrize("r", [0, 8, 2.0])
def test_lora_linear_layer_rejects_a_bad_rank(r):
    with pytest.raises(ValueError, match="r: expected an int"):
        reference.LoRALinear(torch.nn.Linear(7, 5), r=r)


def test_prompt_tuning_prepends_trainable_tokens_and_extends_the_mask(gen):
    prompt = reference.PromptTuning(3, 8)
    emb = torch.randn(2, 5, 8, generator=gen)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    out, out_mask = prompt(emb, mask)
    assert torch.equal(out[:, 3:], emb) and torch.equal(out[0, :3], prompt.prompt.detach())
    assert out_mask.tolist() == [[1] * 8, [1] * 6 + [0, 0]]
    out.sum().backward()
    assert prompt.prompt.grad is not None


def test_prefix_attention_equals_attention_over_concatenated_keys(gen):
    q, k, v = (torch.randn(2, 3, 4, 8, generator=gen, dtype=torch.float64) for _ in range(3))
    pk, pv = (torch.randn(3, 5, 8, generator=gen, dtype=torch.float64) for _ in range(2))
    got = reference.prefix_attention(q, k, v, pk, pv)
    kk = torch.cat([pk.expand(2, -1, -1, -1), k], 2)
    vv = torch.cat([pv.expand(2, -1, -1, -1), v], 2)
    want = torch.nn.functional.scaled_dot_product_attention(q, kk, vv)
    torch.testing.assert_close(got, want)


def test_prefix_tuning_gives_one_trainable_key_value_pair_per_layer():
    prefix = reference.PrefixTuning(num_layers=3, num_heads=2, head_dim=4, prefix_len=5)
    pairs = prefix()
    assert len(pairs) == 3 and all(k.shape == v.shape == (2, 5, 4) for k, v in pairs)
    sum(k.sum() + v.sum() for k, v in pairs).backward()
    assert prefix.tokens.grad is not None and float(prefix.tokens.grad.abs().sum()) > 0
