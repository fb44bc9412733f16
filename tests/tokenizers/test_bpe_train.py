"""python -m hubkit.tokenizers.train at tiny settings: files written, tokenizer usable."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hubkit.tokenizers import BPETokenizer
from hubkit.tokenizers import train as bpe_train


def test_train_cli_writes_a_tokenizer_that_loads_and_compresses(tmp_path, capsys):
    summary = bpe_train.main(["--out", str(tmp_path), "--max-chars", "6000", "--vocab-size",
                              "300", "--backend", "reference", "--quiet"])
    printed = capsys.readouterr().out
    assert "wrote 5 file(s)" in printed and "tokenizer.json" in printed
    logged = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert logged[-1]["merges"] == 300 - 257  # the tracker's record of the run
    tok = BPETokenizer.load(tmp_path / "tokenizer.json", backend="reference")
    assert tok.vocab_size == 300 and "<|endoftext|>" in tok.special_tokens
    assert summary["heldout_bytes_per_token"] > 1.3
    assert json.loads((tmp_path / "summary.json").read_text())["merges"] == 300 - 257
    assert "|" in (tmp_path / "sample.txt").read_text()


def test_train_cli_reads_stdlib_sources_and_a_file(tmp_path):
    assert "def " in bpe_train.load_text("stdlib")
    (tmp_path / "t.txt").write_text("héllo")
    assert bpe_train.load_text(str(tmp_path / "t.txt")) == "héllo"
    with pytest.raises(ValueError, match="text:"):
        bpe_train.load_text(str(tmp_path / "missing.txt"))


def test_train_cli_help_names_out():
    out = subprocess.run([sys.executable, "-m", "hubkit.tokenizers.train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--out" in out and "--vocab-size" in out
