"""hubkit.search.evaluate: MRR, nDCG and recall by hand; the labelled queries name shipped files;
the whole evaluation runs (with a stand-in embedder, so no model is loaded)."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pytest
import torch

from hubkit.search import evaluate as ev


def test_ranked_documents_keep_each_documents_best_chunk_rank():
    assert ev.ranked_documents([3, 0, 2, -1, 1], ["a", "b", "a", "c"]) == ["c", "a", "b"]


def test_reciprocal_rank_and_ndcg_by_hand():
    assert ev.reciprocal_rank(["x", "y", "z"], {"z": 2, "q": 1}) == pytest.approx(1 / 3)
    assert ev.reciprocal_rank(["x"], {"z": 2}) == 0.0
    # gains 2^g - 1: ranked [y(1), x(0), z(2)] vs ideal [z(2), y(1)]
    dcg = 1 / math.log2(2) + 3 / math.log2(4)
    ideal = 3 / math.log2(2) + 1 / math.log2(3)
    assert ev.ndcg(["y", "x", "z"], {"z": 2, "y": 1}) == pytest.approx(dcg / ideal)
    assert ev.ndcg(["z", "y"], {"z": 2, "y": 1}) == pytest.approx(1.0)
    assert ev.ndcg(["y", "x", "z"], {"z": 2, "y": 1}, k=2) == pytest.approx(1 / ideal)


def test_recall_at_k_counts_overlap_and_ignores_padding():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    approx = np.array([[4, 3, 9, -1], [5, 6, 7, 8]])
    assert ev.recall_at_k(approx, exact) == pytest.approx((2 / 4 + 1) / 2)


def test_labelled_queries_name_files_that_exist_or_are_planned_exercises():
    queries = ev.load_queries()
    assert 20 <= len(queries) <= 40
    readmes = ev.readme_files(ev.package_folder("exercises"))
    present = [q for q in queries if set(q.relevant) & set(readmes)]
    assert len(present) >= 25
    for q in queries:
        assert set(q.relevant.values()) <= {1, 2} and 2 in q.relevant.values(), q.text


class HashEmbedder:
    """Stand-in for MiniLM: bag of hashed words, so shared words mean nearby vectors."""

    dim, name = 64, "hash"

    def encode(self, texts, progress=False, desc=""):
        out = torch.zeros(len(texts), self.dim)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1
        return torch.nn.functional.normalize(out + 1e-3, dim=1)


def test_evaluate_scores_every_index_and_exact_recall_is_one():
    results = ev.evaluate(HashEmbedder(), ev.load_queries(), None, with_sources=False,
                          quiet=True)
    assert results["corpus"]["documents"] >= 25 and results["corpus"]["chunks"] > 100
    assert set(results["retrieval"]) >= {"exact", "ivf nprobe=1", "hnsw ef_search=64"}
    exact = results["retrieval"]["exact"]
    assert 0 < exact["mrr"] <= 1 and 0 < exact[f"ndcg@{ev.K}"] <= 1
    assert results["recall"]["exact"][f"recall@{ev.K}"] == 1.0
    ivf = [results["recall"][f"ivf nprobe={n}"][f"recall@{ev.K}"] for n in ev.NPROBES]
    assert ivf == sorted(ivf) and ivf[0] < 1.0  # more lists probed, more found
    text = ev.report_markdown({**results, "loadavg": [1.0, 1.0, 1.0]})
    assert "| exact | " in text and "| hnsw ef_search=128 |" in text
