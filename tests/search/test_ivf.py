"""IVF-Flat and its k-means quantizer: against brute force, sklearn and the one-query spec."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from test_index import clustered, recall_at_k

from hubkit.search import ivf
from hubkit.search.index import FlatIndex, IVFFlatIndex
from hubkit.search.kmeans import kmeans, nearest_centroids


def test_nearest_centroids_is_the_l2_argmin(gen):
    x, c = torch.randn(500, 7, generator=gen), torch.randn(33, 7, generator=gen) * 2
    got = nearest_centroids(x, c, 3)
    dist = torch.cdist(x.double(), c.double())
    assert torch.equal(got, dist.argsort(dim=1, stable=True)[:, :3])


def test_kmeans_matches_sklearn_lloyd_from_the_same_start():
    sklearn = pytest.importorskip("sklearn.cluster")
    from hubkit.search.kmeans import _init

    x = clustered(300, 8, seed=2, clusters=5, noise=0.3)
    start = _init(torch.from_numpy(x), 6, torch.Generator().manual_seed(0)).numpy()
    ours = kmeans(torch.from_numpy(x), 6, iters=15, seed=0).numpy()
    theirs = sklearn.KMeans(6, init=start, n_init=1, max_iter=15, tol=0,
                            algorithm="lloyd").fit(x).cluster_centers_
    np.testing.assert_allclose(ours, theirs, atol=1e-4)


def test_kmeans_reseeds_an_empty_cluster():
    x = torch.cat([torch.zeros(10, 2), torch.ones(10, 2) * 5])
    centroids = kmeans(torch.cat([x, x[:1]]), 3, iters=5)
    assert len(torch.unique(nearest_centroids(x, centroids)[:, 0])) >= 2
    assert torch.isfinite(centroids).all()


def _lists(keys, assignment, c):
    rows = [np.flatnonzero(assignment == i) for i in range(c)]
    return [(keys[r], r) for r in rows]


@pytest.mark.parametrize("nprobe", [1, 3, 8])
def test_batched_list_search_equals_the_one_query_spec(nprobe, gen):
    keys, queries = torch.randn(800, 6, generator=gen), torch.randn(25, 6, generator=gen)
    centroids = kmeans(keys, 8, iters=4)
    assignment = nearest_centroids(keys, centroids)[:, 0]
    want_s, want_r = ivf.ivf_search_reference(queries, centroids, keys, assignment, nprobe, 9)
    probes = nearest_centroids(queries, centroids, nprobe)
    got_s, got_r = ivf.search_lists(queries, probes, _lists(keys, assignment.numpy(), 8), 9)
    assert got_r.tolist() == want_r.tolist()
    np.testing.assert_allclose(got_s, want_s.numpy(), rtol=1e-5, atol=1e-5)


def test_probing_every_list_is_exact_search():
    x = clustered(2000, 16, seed=3)
    flat, index = FlatIndex(16), IVFFlatIndex(16, nlist=16, nprobe=16)
    index.train(x)
    for ix in (flat, index):
        ix.add(x, np.arange(2000))
    assert torch.equal(index.search(x[:50] + 0.05, 10)[1], flat.search(x[:50] + 0.05, 10)[1])


def test_ivf_recall_grows_with_nprobe():
    """recall@10 against exact on 3000 clustered vectors, 32 lists: >= 0.9 at nprobe 8."""
    x = clustered(3000, 24, seed=4, clusters=60, noise=0.5)
    queries = clustered(100, 24, seed=5, clusters=60, noise=0.5)
    exact = FlatIndex(24)
    exact.add(x, np.arange(3000))
    want = exact.search(queries, 10)[1].numpy()
    index = IVFFlatIndex(24, nlist=32)
    index.train(x)
    index.add(x, np.arange(3000))
    recalls = []
    for nprobe in (1, 8, 32):
        index.nprobe = nprobe
        recalls.append(recall_at_k(index.search(queries, 10)[1].numpy(), want))
    assert recalls[0] < recalls[1] < recalls[2] == 1.0
    assert recalls[1] >= 0.9, recalls
    print("IVF recall@10 at nprobe 1, 8, 32:", recalls)


def test_nprobe_out_of_range_is_rejected():
    x = clustered(100, 4, seed=6)
    index = IVFFlatIndex(4, nlist=4, nprobe=5)
    index.train(x)
    index.add(x, np.arange(100))
    with pytest.raises(ValueError, match=r"nprobe: expected an int in \[1, 4\]"):
        index.search(x[:1], 1)


def test_cpp_list_scan_equals_the_batched_torch_search(gen):
    from hubkit import _ext

    if not hasattr(_ext.cpp_module(), "ivf_scan"):
        pytest.skip("hubkit._C with ivf_scan is not built here")
    keys = torch.randint(-2, 3, (900, 5), generator=gen).float()  # many equal scores
    queries = torch.randn(31, 5, generator=gen)
    centroids = kmeans(keys + 0.01 * torch.randn(900, 5, generator=gen), 9, iters=3)
    assignment = nearest_centroids(keys, centroids)[:, 0].numpy()
    lists = [(keys.numpy()[r], r) for r in (np.flatnonzero(assignment == c) for c in range(9))]
    probes = nearest_centroids(queries, centroids, 3)
    alive = np.random.default_rng(0).random(900) > 0.3
    for mask in (None, alive):
        want = ivf.search_lists(queries, probes, [(torch.from_numpy(v), r) for v, r in lists],
                                40, mask)
        got = ivf.search_lists_cpp(queries.numpy(), probes.numpy(), lists, 40, mask)
        assert got[1].tolist() == want[1].tolist()
        np.testing.assert_allclose(got[0], want[0], atol=1e-5)


def test_cpp_list_scan_rejects_probes_out_of_range():
    from hubkit import _ext

    if not hasattr(_ext.cpp_module(), "ivf_scan"):
        pytest.skip("hubkit._C with ivf_scan is not built here")
    lists = [(np.zeros((2, 3), np.float32), np.arange(2))]
    with pytest.raises(ValueError, match="probes: expected"):
        ivf.search_lists_cpp(np.zeros((1, 3), np.float32), np.array([[1]]), lists, 1)
