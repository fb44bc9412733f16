"""hubkit.attention.reference against torch and against the properties each piece promises."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from hubkit.attention import reference as R


def test_sdpa_with_padding_mask_matches_torch(gen):
    q, k, v = (torch.randn(2, 3, n, 8, generator=gen, dtype=torch.float64) for n in (5, 7, 7))
    keep = ~R.padding_mask(torch.tensor([7, 3]), 7)[:, None, None, :]  # (B, 1, 1, Tk)
    want = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    torch.testing.assert_close(R.scaled_dot_product_attention(q, k, v, mask=keep), want)


def test_softmax_survives_large_logits():
    s = torch.tensor([[1000.0, 999.0, -1000.0]])
    torch.testing.assert_close(R.softmax(s), torch.softmax(s, -1))


def test_attention_weights_rows_sum_to_one_and_causal_is_lower_triangular(gen):
    x = torch.randn(1, 1, 6, 4, generator=gen)
    _, w = R.scaled_dot_product_attention(x, x, x, causal=True, return_weights=True)
    torch.testing.assert_close(w.sum(-1), torch.ones(1, 1, 6))
    assert torch.all(w[0, 0].triu(1) == 0)


def test_hard_attention_picks_the_best_scoring_value():
    q = torch.tensor([[[1.0, 0.0]]])
    k = torch.tensor([[[0.0, 1.0], [3.0, 0.0], [1.0, 0.0]]])
    v = torch.tensor([[[10.0], [20.0], [30.0]]])
    assert float(R.hard_attention(q, k, v)) == 20.0


def test_multi_head_attention_matches_torch(gen):
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    x = torch.randn(2, 5, 8, generator=gen, dtype=torch.float64)
    want, want_w = mha(x, x, x)
    got, got_w = R.multi_head_attention(x, x, x, mha.state_dict(), 2)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(got_w, want_w)


def test_layer_norm_matches_torch(gen):
    x, w, b = torch.randn(3, 4, 8, generator=gen), torch.randn(8, generator=gen), torch.randn(8)
    torch.testing.assert_close(R.layer_norm(x, w, b), F.layer_norm(x, (8,), w, b))


def test_sinusoidal_table_values():
    table = R.sinusoidal_positions(50, 6)
    assert table.shape == (50, 6)
    torch.testing.assert_close(table[3, 0], torch.sin(torch.tensor(3.0)))
    torch.testing.assert_close(table[3, 3], torch.cos(torch.tensor(3.0 / 10000 ** (2 / 6))))


def test_rope_scores_depend_only_on_relative_position(gen):
    q, k = torch.randn(1, 1, 1, 8, generator=gen), torch.randn(1, 1, 1, 8, generator=gen)
    def score(tq, tk):
        return float((R.rope(q, offset=tq) * R.rope(k, offset=tk)).sum())
    assert abs(score(5, 2) - score(13, 10)) < 1e-4
    assert abs(score(5, 2) - score(5, 4)) > 1e-3
    torch.testing.assert_close(R.rope(q).norm(), q.norm())  # rotations keep lengths


def test_residual_wiring_pre_and_post_norm():
    x = torch.tensor([[1.0, 3.0]])
    def double(y):
        return 2 * y
    def shift(y):
        return y - 1
    torch.testing.assert_close(R.residual(x, double, shift, norm_first=True), x + 2 * (x - 1))
    torch.testing.assert_close(R.residual(x, double, shift, norm_first=False), 3 * x - 1)


def _table_step(table):
    """A step function whose next-token log-probs depend only on the prefix length."""
    def step(prefix):
        return table[prefix.shape[1] - 1].log().expand(prefix.shape[0], -1)
    return step


def test_greedy_decode_takes_argmax_and_stops_at_eos():
    table = torch.tensor([[0.0, 0.1, 0.6, 0.3], [0.0, 0.0, 0.2, 0.8], [0.0, 1.0, 0.0, 0.0]])
    out = R.greedy_decode(_table_step(table + 1e-9), bos=0, eos=3, max_len=5, batch=2)
    assert out.tolist() == [[0, 2, 3], [0, 2, 3]]


def test_beam_search_beats_greedy_when_the_first_step_misleads():
    # Greedy takes token 1 (0.6), after which eos costs 0.1; token 2 (0.4) then eos (1.0) wins.
    probs = {(0,): [0.0, 0.6, 0.4, 0.0], (0, 1): [0.0, 0.45, 0.45, 0.1],
             (0, 2): [0.0, 0.0, 0.0, 1.0]}
    def step(prefix):
        rows = [torch.tensor(probs.get(tuple(p), [0.0, 0.0, 0.0, 1.0])) + 1e-9 for p in
                prefix.tolist()]
        rows = [r / r.sum() for r in rows]
        return torch.stack(rows).log()
    greedy = R.greedy_decode(step, bos=0, eos=3, max_len=3)
    assert greedy[0, 1] == 1
    assert R.beam_search(step, bos=0, eos=3, max_len=3, beam=2).tolist() == [0, 2, 3]
