"""python -m hubkit.embeddings.train end to end on tiny settings, and the 2-D maps."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hubkit.embeddings import plots, train

TINY = ["--max-words", "6000", "--epochs", "1", "--dim", "8", "--min-count", "3",
        "--table-size", "10000", "--quiet"]


def test_train_writes_vectors_evaluation_and_metrics(tmp_path, capsys):
    train.main([*TINY, "--no-plots", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    for name in ("vectors.txt", "evaluation.json", "evaluation.md", "metrics.jsonl"):
        assert (tmp_path / name).exists() and str(tmp_path / name) in printed
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert 4000 < report["corpus"]["tokens"] <= 6000 and report["config"]["dim"] == 8
    assert set(report["results"]["word2vec"]) == {"similarity", "analogies", "neighbours"}
    first = (tmp_path / "vectors.txt").read_text().splitlines()[0]
    assert first == f"{report['corpus']['vocab']} 8"
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert any("words_per_s" in r for r in rows) and "similarity" in rows[-1]
    assert "random" in (tmp_path / "evaluation.md").read_text()


def test_train_rejects_bad_settings_before_writing(tmp_path):
    with pytest.raises(ValueError, match="window"):
        train.main([*TINY, "--window", "0", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def _words_and_vectors(n: int = 46):
    words = ["list", "lists", "file", "files", "key", "keys"] + [f"w{i}" for i in range(n - 6)]
    return words, np.random.default_rng(0).normal(size=(n, 8))


def test_maps_are_pngs_and_a_missing_umap_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")

    def no_umap(*args, **kwargs):
        raise ImportError("No module named 'umap'", name="umap")

    # subtle: the projection itself is stubbed (t-SNE takes a minute on a busy 2-core
    # machine); the slow tests below run the real ones.
    monkeypatch.setattr(plots, "tsne_2d", lambda vectors, seed: vectors[:, :2])
    monkeypatch.setattr(plots, "umap_2d", no_umap)
    written, notes = plots.plot_maps(*_words_and_vectors(), tmp_path)
    assert [p.name for p in written] == ["tsne.png"]
    assert (tmp_path / "tsne.png").read_bytes()[:4] == b"\x89PNG"
    assert len(notes) == 1 and "umap-learn" in notes[0] and "\n" not in notes[0]


def test_map_words_are_the_analogy_words_then_frequent_ones():
    words = ["the", "of", "file", "files", "socket"]
    assert plots.pick_words(words, n_frequent=2, skip=3) == [
        ("file", "plural"), ("files", "plural"), ("socket", "frequent")]


@pytest.mark.slow
def test_tsne_keeps_planted_clusters_apart():
    pytest.importorskip("sklearn")
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(2, 8)) * 10
    vectors = np.vstack([centres[i % 2] + rng.normal(size=8) for i in range(40)])
    points = plots.tsne_2d(vectors, seed=0)
    a, b = points[0::2], points[1::2]
    assert np.linalg.norm(a.mean(0) - b.mean(0)) > 2 * max(a.std(0).max(), b.std(0).max())


@pytest.mark.slow
def test_umap_map_is_written_when_umap_learn_is_installed(tmp_path):
    pytest.importorskip("umap")
    written, notes = plots.plot_maps(*_words_and_vectors(60), tmp_path)
    assert [p.name for p in written] == ["tsne.png", "umap.png"] and not notes
