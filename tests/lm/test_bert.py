"""hubkit.lm.bert: BERT masking, a bidirectional encoder, and the masked-vs-causal table."""

from __future__ import annotations

import json

import pytest
import torch

from hubkit.lm import bert
from hubkit.lm.model import GPTConfig

CFG = GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=16)


def test_masking_chooses_fifteen_percent_and_splits_them_80_10_10():
    ids = torch.randint(0, 49, (200, 100))
    x, y = bert.mask_tokens(ids, mask_id=49, vocab_size=50,
                            generator=torch.Generator().manual_seed(0))
    chosen = y != -1
    assert abs(float(chosen.float().mean()) - 0.15) < 0.01
    assert torch.equal(y[chosen], ids[chosen]) and torch.equal(x[~chosen], ids[~chosen])
    masked = float((x[chosen] == 49).float().mean())
    kept = float((x[chosen] == ids[chosen]).float().mean())
    assert abs(masked - 0.8) < 0.02 and abs(kept - 0.1 - 0.1 / 50) < 0.02


def test_masking_always_leaves_something_to_predict():
    x, y = bert.mask_tokens(torch.zeros(1, 2, dtype=torch.long), 9, 10, prob=0.01,
                            generator=torch.Generator().manual_seed(3))
    assert int((y != -1).sum()) >= 1


def test_bad_mask_probability_names_prob():
    with pytest.raises(ValueError, match="prob"):
        bert.mask_tokens(torch.zeros(1, 2, dtype=torch.long), 9, 10, prob=0.0)


def test_encoder_output_depends_on_later_tokens_unlike_the_gpt():
    from hubkit.lm.model import GPT

    torch.manual_seed(0)
    ids = torch.randint(0, 50, (1, 10))
    later = ids.clone()
    later[0, -1] = (later[0, -1] + 1) % 50
    for cls, sees_future in ((bert.BertEncoder, True), (GPT, False)):
        model = cls(CFG).eval()
        first = model(ids)[0][0, 0]
        assert torch.allclose(first, model(later)[0][0, 0]) is not sees_future, cls.__name__


def test_loss_counts_only_the_chosen_tokens():
    torch.manual_seed(0)
    model = bert.BertEncoder(CFG).eval()
    ids = torch.randint(0, 50, (2, 8))
    y = torch.full_like(ids, -1)
    y[0, 3], y[1, 5] = ids[0, 3], ids[1, 5]
    logits, loss = model(ids, y)
    want = torch.nn.functional.cross_entropy(torch.stack([logits[0, 3], logits[1, 5]]),
                                             torch.stack([ids[0, 3], ids[1, 5]]))
    torch.testing.assert_close(loss, want)


def test_compare_writes_the_table_for_both_objectives(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    (folder / "a.txt").write_text("the cat sat on the mat. " * 200, encoding="utf-8")
    (folder / "b.txt").write_text("a dog ran in the fog. " * 200, encoding="utf-8")
    bert.main(["--data", str(folder), "--vocab-size", "300", "--block-size", "16",
               "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--batch-size", "4",
               "--steps", "4", "--eval-every", "2", "--threads", "1", "--quiet",
               "--out", str(tmp_path / "out")])
    table = (tmp_path / "out" / "compare.md").read_text()
    assert "| causal | GPT |" in table and "| masked | BertEncoder |" in table
    results = json.loads((tmp_path / "out" / "summary.json").read_text())["results"]
    causal, masked = results
    assert causal["predicted_fraction"] == 1.0 and 0.0 < masked["predicted_fraction"] < 0.5
    assert causal["params"] == masked["params"]
