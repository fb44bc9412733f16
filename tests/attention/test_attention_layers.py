"""hubkit.nn attention layers load torch.nn checkpoints and give torch's outputs."""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit.attention import reference

C, H = 16, 4


def _pair(gen, **kw):
    torch.manual_seed(int(torch.randint(0, 10_000, (1,), generator=gen)))
    ref = torch.nn.MultiheadAttention(C, H, batch_first=kw.pop("batch_first", True), **kw)
    mine = hubkit.nn.MultiheadAttention(C, H, batch_first=ref.batch_first, **kw)
    mine.load_state_dict(ref.state_dict())
    return ref.double().eval(), mine.double().eval()


def _x(gen, b, t):
    return torch.randn(b, t, C, generator=gen, dtype=torch.float64)


def test_mha_state_dict_has_torchs_keys_and_shapes():
    ref = torch.nn.MultiheadAttention(C, H, batch_first=True).state_dict()
    mine = hubkit.nn.MultiheadAttention(C, H).state_dict()
    assert {k: v.shape for k, v in ref.items()} == {k: v.shape for k, v in mine.items()}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("average", [True, False])
def test_mha_matches_torch_self_attention(need_weights, average, gen):
    ref, mine = _pair(gen)
    x = _x(gen, 3, 7)
    want, want_w = ref(x, x, x, need_weights=need_weights, average_attn_weights=average)
    got, got_w = mine(x, x, x, need_weights=need_weights, average_attn_weights=average)
    torch.testing.assert_close(got, want)
    assert mine.fused_path(need_weights) is not need_weights
    if need_weights:
        torch.testing.assert_close(got_w, want_w)
    else:
        assert got_w is None


def test_mha_matches_torch_cross_attention_with_key_padding_mask(gen):
    ref, mine = _pair(gen)
    q, kv = _x(gen, 2, 5), _x(gen, 2, 9)
    pad = reference.padding_mask(torch.tensor([9, 4]), 9)  # (B, Tk), True = padding
    want, want_w = ref(q, kv, kv, key_padding_mask=pad)
    got, got_w = mine(q, kv, kv, key_padding_mask=pad)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_w, want_w)


@pytest.mark.parametrize("kind", ["bool", "float", "causal_hint", "per_head"])
def test_mha_matches_torch_with_attn_mask(kind, gen):
    ref, mine = _pair(gen)
    x = _x(gen, 2, 6)
    causal = torch.ones(6, 6, dtype=torch.bool).triu(1)  # True = blocked
    kwargs = {"attn_mask": causal}
    if kind == "float":
        kwargs["attn_mask"] = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    if kind == "causal_hint":
        kwargs.update(is_causal=True, need_weights=False)
    if kind == "per_head":
        kwargs["attn_mask"] = torch.rand(2 * H, 6, 6, generator=gen) < 0.3
        kwargs["attn_mask"][..., 0] = False  # every query keeps one key
    want = ref(x, x, x, **kwargs)[0]
    got = mine(x, x, x, **kwargs)[0]
    torch.testing.assert_close(got, want)


@pytest.mark.parametrize("kw", [{"bias": False}, {"batch_first": False}])
def test_mha_matches_torch_options(kw, gen):
    ref, mine = _pair(gen, **kw)
    x = _x(gen, 4, 3)
    torch.testing.assert_close(mine(x, x, x)[0], ref(x, x, x)[0])


def test_mha_gradients_match_torch_on_the_fused_path(gen):
    ref, mine = _pair(gen)
    x = _x(gen, 2, 5)
    mask = torch.ones(5, 5, dtype=torch.bool).triu(1)
    ref(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)[0].square().sum().backward()
    mine(x, x, x, is_causal=True, need_weights=False)[0].square().sum().backward()
    for name, p in mine.named_parameters():
        torch.testing.assert_close(p.grad, dict(ref.named_parameters())[name].grad)


def test_mha_rejects_heads_that_do_not_divide_embed_dim():
    with pytest.raises(ValueError, match="num_heads"):
        hubkit.nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize("kw,match", [({"add_bias_kv": True}, "add_bias_kv"),
                                      ({"kdim": 8}, "kdim"), ({"vdim": 4}, "vdim")])
def test_mha_rejects_unsupported_torch_options_by_name(kw, match):
    with pytest.raises(ValueError, match=match):
        hubkit.nn.MultiheadAttention(C, H, **kw)


def _seed_torch(gen):
    torch.manual_seed(int(torch.randint(0, 10_000, (1,), generator=gen)))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch(norm_first, gen):
    _seed_torch(gen)
    ref = torch.nn.TransformerEncoderLayer(C, H, 32, batch_first=True, norm_first=norm_first)
    mine = hubkit.nn.TransformerEncoderLayer(C, H, 32, norm_first=norm_first)
    mine.load_state_dict(ref.state_dict())
    ref, mine = ref.double().eval(), mine.double().eval()
    x = _x(gen, 2, 7)
    pad = reference.padding_mask(torch.tensor([7, 5]), 7)
    torch.testing.assert_close(mine(x), ref(x))
    torch.testing.assert_close(mine(x, src_key_padding_mask=pad)[0],
                               ref(x, src_key_padding_mask=pad)[0])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first, gen):
    _seed_torch(gen)
    ref = torch.nn.TransformerDecoderLayer(C, H, 32, batch_first=True, norm_first=norm_first)
    mine = hubkit.nn.TransformerDecoderLayer(C, H, 32, norm_first=norm_first)
    mine.load_state_dict(ref.state_dict())
    ref, mine = ref.double().eval(), mine.double().eval()
    tgt, mem = _x(gen, 2, 6), _x(gen, 2, 9)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(6, dtype=torch.float64)
    want = ref(tgt, mem, tgt_mask=mask, tgt_is_causal=True)
    torch.testing.assert_close(mine(tgt, mem, tgt_mask=mask, tgt_is_causal=True), want)


def test_transformer_and_reference_match_torch_transformer(gen):
    _seed_torch(gen)
    ref = torch.nn.Transformer(C, H, 2, 1, 32, batch_first=True).double().eval()
    mine = hubkit.nn.Transformer(C, H, 2, 1, 32).double().eval()
    mine.load_state_dict(ref.state_dict())
    src, tgt = _x(gen, 2, 8), _x(gen, 2, 5)
    mask = ref.generate_square_subsequent_mask(5, dtype=torch.float64)
    want = ref(src, tgt, tgt_mask=mask, tgt_is_causal=True)
    torch.testing.assert_close(mine(src, tgt, tgt_is_causal=True), want)
    got = reference.transformer(src, tgt, ref.state_dict(), (2, 1), H)
    torch.testing.assert_close(got, want)
