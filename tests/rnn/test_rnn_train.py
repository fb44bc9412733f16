"""hubkit.rnn.train: the char-LSTM runs end to end on tiny settings, samples and checkpoints."""

from __future__ import annotations

import json

import torch

from hubkit import runlog
from hubkit.rnn import train

TINY = ["--steps", "4", "--hidden", "16", "--layers", "1", "--embed", "8", "--seq-len", "16",
        "--batch-size", "4", "--max-chars", "3000", "--eval-every", "2", "--sample-len", "20",
        "--temperatures", "0.5", "1.0", "--quiet"]


def test_default_corpus_is_pythons_pydoc_topics():
    text = train.load_corpus(max_chars=5000)
    assert len(text) == 5000 and len(set(text)) > 30


def test_vocab_round_trips_text():
    text = train.load_corpus(max_chars=2000)
    vocab = train.Vocab(text)
    assert vocab.decode(vocab.encode(text)) == text


def test_charlm_command_writes_checkpoint_samples_plot_and_summary(tmp_path, capsys):
    out = train.main(["charlm", *TINY, "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    for name in ("checkpoint.pt", "samples.txt", "loss.png", "summary.json", "history.jsonl"):
        assert (tmp_path / name).exists(), name
        assert str(tmp_path / name) in printed  # the "wrote ..." list
    assert (tmp_path / "loss.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["val_loss"] == out["val_loss"] and set(summary["samples"]) == {"0.5", "1.0"}
    history = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [r["step"] for r in history] == [1, 2, 3, 4] and "val_loss" in history[1]
    model, vocab, ckpt = train.load_checkpoint(tmp_path / "checkpoint.pt")
    assert ckpt["step"] == 4
    for a, b in zip(model.state_dict().values(), out["model"].state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_sample_has_the_requested_length_and_vocab(tmp_path):
    vocab = train.Vocab("abc \n")
    model = train.CharLSTM(len(vocab), embed=4, hidden=8, layers=1)
    text = train.sample(model, vocab, "ab", 30, 0.8, torch.Generator().manual_seed(0))
    assert text.startswith("ab") and len(text) == 32 and set(text) <= set(vocab.chars)


def test_temperature_zero_is_greedy_and_high_temperature_is_more_varied():
    vocab = train.Vocab("abcdefgh")
    torch.manual_seed(0)
    model = train.CharLSTM(len(vocab), embed=4, hidden=8, layers=1)
    greedy = [train.sample(model, vocab, "a", 40, 0.0, torch.Generator().manual_seed(s))
              for s in range(2)]
    assert greedy[0] == greedy[1]
    hot = train.sample(model, vocab, "a", 200, 5.0, torch.Generator().manual_seed(0))
    cold = train.sample(model, vocab, "a", 200, 0.2, torch.Generator().manual_seed(0))
    assert len(set(hot)) >= len(set(cold))


def test_training_learns_a_repeating_pattern(tmp_path):
    corpus = tmp_path / "abc.txt"
    corpus.write_text("abcd" * 500)
    cfg = train.CharLMConfig(corpus=str(corpus), seq_len=12, batch_size=8, embed=8, hidden=24,
                             layers=1, steps=60, lr=0.02, eval_every=60, sample_len=12,
                             temperatures=(0.0,))
    out = train.train_charlm(cfg, runlog.Outputs(tmp_path / "run", "t"))
    assert out["val_loss"] < 0.3 * out["uniform_loss"]
    assert "abcdabcd" in out["samples"][0.0]  # greedy generation continues the pattern
