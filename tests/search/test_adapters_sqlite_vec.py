"""hubkit.search.adapters: sqlite-vec (embedded) gives the exact top-k, persists, deletes."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sqlite_vec")

from hubkit.search.adapters import SqliteVecIndex, connect, export_store  # noqa: E402
from hubkit.search.chunking import Chunk  # noqa: E402
from hubkit.search.store import NewDocument, Store  # noqa: E402


def _index(path, **kw):
    try:
        return SqliteVecIndex(path, **kw)
    except ImportError as err:  # neither sqlite3 with extensions nor sqlean.py here
        pytest.skip(str(err))


def _exact_cosine(queries, keys, k):
    q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    x = keys / np.linalg.norm(keys, axis=1, keepdims=True)
    scores = q @ x.T                                   # (Q, N)
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(scores, order, 1), order


def test_search_equals_exact_cosine_top_k(tmp_path):
    rng = np.random.default_rng(0)
    keys, queries = rng.standard_normal((300, 24)), rng.standard_normal((7, 24))
    index = _index(tmp_path / "v.db", dim=24)
    index.add(keys, np.arange(300) + 1000)
    scores, ids = index.search(queries, k=10)
    want_scores, want_rows = _exact_cosine(queries, keys, 10)
    np.testing.assert_array_equal(ids, want_rows + 1000)
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)


def test_remove_len_reopen_and_padding(tmp_path):
    rng = np.random.default_rng(1)
    keys = rng.standard_normal((5, 4)).astype(np.float32)
    with _index(tmp_path / "v.db", dim=4, metric="l2") as index:
        index.add(keys, [1, 2, 3, 4, 5])
        index.remove([2, 9])
        assert len(index) == 4
    with _index(tmp_path / "v.db", dim=4, metric="l2") as index:
        scores, ids = index.search(keys[1:2], k=6)  # the removed key's own vector
        assert 2 not in ids and list(ids[0, 4:]) == [-1, -1] and np.isneginf(scores[0, 4:]).all()
        dist = np.linalg.norm(keys[ids[0, :4] - 1] - keys[1], axis=1)
        np.testing.assert_allclose(-scores[0, :4], dist, rtol=1e-5)


def test_bad_arguments_are_refused(tmp_path):
    index = _index(":memory:", dim=4)
    with pytest.raises(ValueError, match=r"vectors must have shape \(N, 4\)"):
        index.add(np.zeros((2, 3)), [1, 2])
    with pytest.raises(ValueError, match="ids must have one id per vector"):
        index.add(np.zeros((2, 4)), [1])
    with pytest.raises(ValueError, match="metric must be one of"):
        SqliteVecIndex(":memory:", dim=4, metric="dot")


def test_export_store_answers_like_the_store(tmp_path):
    rng = np.random.default_rng(2)
    with Store(tmp_path / "store", dim=16) as store:
        for name in ("a", "b", "c"):
            v = rng.standard_normal((6, 16)).astype(np.float32)
            store.add([NewDocument(name, [Chunk(f"{name}{i}", i + 1, i + 1) for i in range(6)],
                                   v)])
        store.delete(["b"])
        try:
            index = export_store(store, tmp_path / "vec.db")
        except ImportError as err:
            pytest.skip(str(err))
        queries = rng.standard_normal((4, 16)).astype(np.float32)
        _, ids = index.search(queries, k=5)
        for q_ids, hits in zip(ids, store.search(queries, k=5), strict=True):
            assert list(q_ids) == [h.row for h in hits]
    assert connect(tmp_path / "vec.db").execute("SELECT COUNT(*) FROM vectors").fetchone() == (12,)
