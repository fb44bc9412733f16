"""hubkit.attention.reference against torch and against the properties each piece promises."""

from __future__ import annotations

import pytest
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
    assert R.beam_search(step, bos=0, eos=3, max_len=3, beam=2).tolist() == [[0, 2, 3]]


EOS, V = 5, 7


def _model_like_step(sentences: list[int], seed: int = 0):
    """Log-probs that depend on the sentence and the whole prefix, one row at a time.

    Rows come grouped by sentence as the decoders lay them out: row r is sentence
    sentences[r // K]. eos grows likelier with length, so decoding ends.
    """
    g = torch.Generator().manual_seed(seed)
    sentence_bias = torch.randn(10, V, generator=g)  # sentence ids 0..9
    token_effect = torch.randn(V, V, generator=g)
    def step(prefix):  # (B*K, T) -> (B*K, V)
        k = prefix.shape[0] // len(sentences)
        sent = torch.tensor(sentences).repeat_interleave(k)
        weights = torch.linspace(0.5, 1.5, prefix.shape[1])[None, :, None]  # order matters
        h = sentence_bias[sent] + (token_effect[prefix] * weights).sum(1)
        h[:, EOS] += 0.6 * prefix.shape[1]
        return h.log_softmax(-1)
    return step


def _until_eos(row: list[int]) -> list[int]:
    return row[: row.index(EOS) + 1] if EOS in row else row


def _decode(sentences, beam, seed):
    step = _model_like_step(sentences, seed)
    if beam is None:
        out = R.greedy_decode(step, bos=0, eos=EOS, max_len=12, batch=len(sentences))
    else:
        out = R.beam_search(step, bos=0, eos=EOS, max_len=12, beam=beam, batch=len(sentences))
    return [_until_eos(row) for row in out.tolist()]


@pytest.mark.parametrize("beam", [None, 1, 2, 4])
@pytest.mark.parametrize("seed", range(4))
def test_decoding_a_batch_equals_decoding_each_sentence_alone(beam, seed):
    sentences = [3, 0, 7, 1, 5, 2]
    batched = _decode(sentences, beam, seed)
    alone = [_decode([s], beam, seed)[0] for s in sentences]
    assert batched == alone
    assert len({len(row) for row in batched}) > 1  # rows finish at different steps


@pytest.mark.parametrize("seed", range(8))
def test_beam_search_with_beam_one_is_greedy_decoding(seed):
    sentences = list(range(6))
    step = _model_like_step(sentences, seed)
    greedy = R.greedy_decode(step, bos=0, eos=EOS, max_len=12, batch=6)
    torch.testing.assert_close(R.beam_search(step, bos=0, eos=EOS, max_len=12, beam=1,
                                             batch=6), greedy, rtol=0, atol=0)


def test_beam_search_never_scores_below_greedy():
    sentences = list(range(8))
    step = _model_like_step(sentences, seed=1)
    def score(seqs):  # total log-prob of each row up to its first eos
        total = torch.zeros(len(seqs))
        for t in range(1, seqs.shape[1]):
            logp = step(seqs[:, :t]).gather(1, seqs[:, t:t + 1])[:, 0]
            live = (seqs[:, 1:t] != EOS).all(1)
            total += torch.where(live, logp, torch.zeros_like(logp))
        return total
    greedy = R.greedy_decode(step, bos=0, eos=EOS, max_len=12, batch=8)
    beam = R.beam_search(step, bos=0, eos=EOS, max_len=12, beam=4, batch=8)
    assert torch.all(score(beam) >= score(greedy) - 1e-5)
    assert bool((score(beam) > score(greedy) + 1e-3).any())  # the search found better somewhere


def test_beam_search_rejects_a_beam_below_one():
    with pytest.raises(ValueError, match="beam"):
        R.beam_search(_model_like_step([0]), bos=0, eos=EOS, max_len=3, beam=0)
