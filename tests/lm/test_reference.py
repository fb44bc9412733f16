"""hubkit.lm.reference: the readable KV-cache layer equals the full causal pass, and the GPT's."""

from __future__ import annotations

import pytest
import torch

from hubkit.lm import reference as R


def _inputs(b=2, t=11, c=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(b, t, c, generator=g), torch.randn(t + 3, c, generator=g),
            torch.randn(3 * c, c, generator=g) / c ** 0.5, torch.randn(c, c, generator=g))


@pytest.mark.parametrize("prompt,chunk", [(1, 1), (4, 1), (5, 3), (11, 1)])
def test_cached_layer_chunk_by_chunk_equals_the_full_pass(prompt, chunk):
    x, wpe, w_qkv, w_out = _inputs()
    cache = {"k": None, "v": None}
    outs = [R.cached_layer(x[:, :prompt], cache, wpe, w_qkv, w_out, 3)]
    outs += [R.cached_layer(x[:, i:i + chunk], cache, wpe, w_qkv, w_out, 3)
             for i in range(prompt, 11, chunk)]
    torch.testing.assert_close(torch.cat(outs, 1), R.causal_layer(x, wpe, w_qkv, w_out, 3),
                               rtol=1e-5, atol=1e-5)
    assert cache["k"].shape == (2, 3, 11, 4)


def test_causal_layer_matches_torch_attention():
    x, wpe, w_qkv, w_out = _inputs()
    h = x + wpe[:11]
    q, k, v = (t.view(2, 11, 3, 4).transpose(1, 2) for t in (h @ w_qkv.T).chunk(3, -1))
    y = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    want = y.transpose(1, 2).reshape(2, 11, 12) @ w_out.T
    torch.testing.assert_close(R.causal_layer(x, wpe, w_qkv, w_out, 3), want)
