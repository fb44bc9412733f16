"""hubkit.search.index: the interface every index shares (add, remove, search, len, save/load)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from hubkit.search.index import FlatIndex, HNSWIndex, IVFFlatIndex


def clustered(n: int, dim: int, seed: int, clusters: int = 40, noise: float = 0.35):
    """(n, dim) float32 points around random centres: the shape of real embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(0, clusters, n)] + noise * rng.standard_normal((n, dim))
    return x.astype(np.float32)


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of each row of exact ids that found also holds."""
    k = exact.shape[1]
    return float(np.mean([len(set(f) & set(e)) / k for f, e in zip(found, exact, strict=True)]))


def make(kind: str, dim: int, metric: str = "cosine", train=None):
    if kind == "flat":
        return FlatIndex(dim, metric=metric)
    if kind.startswith("ivf"):
        backend = "reference" if kind == "ivf-reference" else None
        index = IVFFlatIndex(dim, nlist=4, nprobe=4, metric=metric, backend=backend)  # exact
        index.train(train)
        return index
    if kind == "hnsw":
        return HNSWIndex(dim, M=8, ef_construction=64, ef_search=200, metric=metric)
    return HNSWIndex(dim, M=6, ef_construction=16, ef_search=200, metric=metric,
                     backend="reference")


KINDS = ["flat", "ivf", "ivf-reference", "hnsw", "hnsw-reference"]


@pytest.fixture
def data():
    return clustered(300, 12, seed=1)


@pytest.mark.parametrize("metric", ["cosine", "ip"])
@pytest.mark.parametrize("kind", KINDS)
def test_small_index_search_is_exact(kind, metric, data):
    """On 300 vectors every index, tuned to search everything, finds the exact top 5."""
    index = make(kind, 12, metric, train=data)
    ids = np.arange(300) * 7 + 3
    index.add(torch.from_numpy(data), torch.from_numpy(ids))
    queries = data[:20] + 0.1
    scores, found = index.search(queries, 5)
    x, q = data.astype(np.float64), queries.astype(np.float64)
    if metric == "cosine":
        x, q = (a / np.linalg.norm(a, axis=1, keepdims=True) for a in (x, q))
    exact = q @ x.T
    want = np.argsort(-exact, axis=1, kind="stable")[:, :5]
    assert scores.dtype == torch.float32 and found.dtype == torch.int64
    assert found.tolist() == ids[want].tolist()
    np.testing.assert_allclose(scores.numpy(), np.take_along_axis(exact, want, 1), atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_removed_ids_are_never_returned_and_len_counts_live(kind, data):
    index = make(kind, 12, train=data)
    index.add(data, np.arange(300))
    nearest = index.search(data[:10], 1)[1][:, 0].numpy()
    assert index.remove(list(nearest) + [10_000]) == len(set(nearest))
    assert len(index) == 300 - len(set(nearest))
    _, found = index.search(data[:10], 20)
    assert not set(found.flatten().tolist()) & set(nearest.tolist())
    assert (found >= 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_fewer_than_k_vectors_pad_with_minus_one(kind, data):
    index = make(kind, 12, train=data)
    index.add(data[:3], [5, 6, 7])
    index.remove([6])
    scores, found = index.search(data[:2], 4)
    assert sorted(found[0, :2].tolist()) == [5, 7]
    assert found[:, 2:].tolist() == [[-1, -1], [-1, -1]]
    assert torch.isinf(scores[:, 2:]).all() and (scores[:, 2:] < 0).all()


@pytest.mark.parametrize("kind", KINDS)
def test_empty_index_returns_only_padding(kind, data):
    index = make(kind, 12, train=data)
    scores, found = index.search(data[:2], 3)
    assert found.tolist() == [[-1] * 3] * 2 and len(index) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_save_then_load_gives_the_same_answers_and_keeps_adding(kind, data, tmp_path):
    index = make(kind, 12, train=data)
    index.add(data[:100], np.arange(100))
    index.remove([3, 4])
    index.save(tmp_path / "index.npz")
    options = {"backend": "reference"} if kind.endswith("-reference") else {}
    loaded = type(index).load(tmp_path / "index.npz", **options)
    assert len(loaded) == len(index) == 98
    for a, b in zip(index.search(data[:30], 7), loaded.search(data[:30], 7), strict=True):
        assert torch.equal(a, b)
    index.add(data[100:150], np.arange(100, 150))  # the same next layers / lists in both
    loaded.add(data[100:150], np.arange(100, 150))
    assert torch.equal(index.search(data, 5)[1], loaded.search(data, 5)[1])
    assert not list(tmp_path.glob("*.tmp"))


def test_load_rejects_another_kind_of_index(data, tmp_path):
    FlatIndex(12).save(tmp_path / "flat.npz")
    with pytest.raises(ValueError, match="path: holds a FlatIndex"):
        HNSWIndex.load(tmp_path / "flat.npz")


@pytest.mark.parametrize("kind", KINDS)
def test_an_id_can_be_added_again_after_removal(kind, data):
    index = make(kind, 12, train=data)
    index.add(data[:2], [1, 2])
    with pytest.raises(ValueError, match=r"ids: \[2\] already stored"):
        index.add(data[2:4], [3, 2])
    assert len(index) == 2  # the failed add changed nothing
    index.remove([2])
    index.add(data[5:6], [2])
    assert index.search(data[5:6], 1)[1].item() == 2


BAD = [
    (lambda ix: ix.add(np.zeros((2, 5), np.float32), [1, 2]), "vectors: expected shape (n, 12)"),
    (lambda ix: ix.add(np.zeros((2, 12), np.float32), [1]), "ids: expected shape (2,)"),
    (lambda ix: ix.add(np.zeros((2, 12), np.float32), [1, 1]), "ids: contains repeated ids"),
    (lambda ix: ix.add(np.full((1, 12), np.nan, np.float32), [1]), "vectors: contains NaN"),
    (lambda ix: ix.add(np.zeros((1, 12), np.float32), [0.5]), "ids: expected integers"),
    (lambda ix: ix.search(np.zeros((1, 12), np.float32), 0), "k: expected an int >= 1"),
    (lambda ix: ix.search(np.zeros(12, np.float32), 1), "queries: expected shape (n, 12)"),
]


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("call,message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_rejected_naming_the_argument(kind, call, message, data):
    index = make(kind, 12, train=data)
    with pytest.raises(ValueError) as err:
        call(index)
    assert message in str(err.value)
    assert len(index) == 0


def test_bad_constructor_arguments_name_the_argument():
    for make_it, message in [(lambda: FlatIndex(0), "dim:"),
                             (lambda: FlatIndex(4, "l2"), "metric:"),
                             (lambda: IVFFlatIndex(4, nlist=0), "nlist:"),
                             (lambda: HNSWIndex(4, M=1), "M:"),
                             (lambda: HNSWIndex(4, backend="cuda"), "backend:")]:
        with pytest.raises(ValueError, match=message):
            make_it()


def test_ivf_must_be_trained_before_add(data):
    index = IVFFlatIndex(12, nlist=4)
    with pytest.raises(ValueError, match="not trained; call train"):
        index.add(data[:2], [1, 2])
    with pytest.raises(ValueError, match="vectors: training 4 lists needs at least 4"):
        index.train(data[:3])


@pytest.mark.parametrize("name", ["reference", "ops", "kmeans", "ivf", "hnsw", "index"])
def test_docstring_examples_pass(name):
    import doctest
    import importlib

    module = importlib.import_module(f"hubkit.search.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
