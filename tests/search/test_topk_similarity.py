"""hubkit.ops.topk_similarity: every CPU backend against the float64 reference and numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import hubkit
from hubkit.search import reference
from hubkit.search.ops import SPEC

BACKENDS = ["reference", "cpp"]
SHAPES = [(1, 1, 1, 1), (5, 1000, 37, 7), (70, 3001, 64, 10), (3, 50, 384, 50),
          (130, 700, 5, 3)]  # Q, N, D, k: odd, tails, past one query group


def _skip_unavailable(backend: str) -> None:
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _inputs(shape, gen, strided=False):
    q, n, d, _ = shape
    queries = torch.randn(q, d, generator=gen)
    keys = torch.randn(d, n, generator=gen).T if strided else torch.randn(n, d, generator=gen)
    return queries, keys


def _exact(queries, keys, metric):
    """(Q, N) float64 scores by numpy: the outside oracle."""
    q, k = queries.double().numpy(), keys.double().numpy()
    if metric == "cosine":
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        k = k / np.maximum(np.linalg.norm(k, axis=1, keepdims=True), 1e-12)
    return q @ k.T


def assert_valid_topk(scores, indices, queries, keys, k, metric, atol=1e-4):
    """Scores descending, each equal to the true score of its key, and the true k-th best."""
    exact = _exact(queries, keys, metric)
    assert scores.shape == indices.shape == (queries.shape[0], k)
    assert indices.dtype == torch.int64
    idx = indices.numpy()
    assert all(len(set(row)) == k for row in idx), "a key returned twice"
    np.testing.assert_allclose(scores.double().numpy(), np.take_along_axis(exact, idx, 1),
                               atol=atol, rtol=0)
    want = -np.sort(-exact, axis=1)[:, :k]
    np.testing.assert_allclose(scores.double().numpy(), want, atol=atol, rtol=0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["ip", "cosine"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_topk_matches_exact_search(backend, metric, shape, gen):
    _skip_unavailable(backend)
    queries, keys = _inputs(shape, gen, strided=shape[0] == 5)
    scores, indices = hubkit.ops.topk_similarity(queries, keys, shape[3], metric, backend=backend)
    assert scores.dtype == torch.float32
    assert_valid_topk(scores, indices, queries, keys, shape[3], metric)


def test_reference_matches_torch_topk_in_float64(gen):
    queries, keys = torch.randn(9, 12, generator=gen, dtype=torch.float64), \
        torch.randn(10_000, 12, generator=gen, dtype=torch.float64)
    scores, indices = reference.topk_similarity_reference(queries, keys, 6, chunk=999)
    want_s, want_i = (queries @ keys.T).topk(6, dim=1)
    torch.testing.assert_close(scores, want_s)
    assert torch.equal(indices, want_i)


def test_reference_never_builds_the_full_score_matrix(gen, monkeypatch):
    """The widest score block is one chunk of keys, however many keys there are."""
    widths = []
    real = reference.merge_topk
    monkeypatch.setattr(reference, "merge_topk",
                        lambda s, i, k: (widths.append(s.shape[1]), real(s, i, k))[1])
    reference.topk_similarity_reference(torch.randn(4, 8), torch.randn(5000, 8), 3, chunk=512)
    assert len(widths) == 10 and max(widths) == 512 + 3


def _tied_inputs():
    """Integer vectors (exact in float32 whatever the summation order) with many equal scores."""
    keys = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [2.0, 0.0], [1.0, 0.0],
                         [0.0, 1.0], [2.0, 0.0], [1.0, 0.0]]).repeat(40, 1)  # 320 keys
    queries = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    return queries, keys


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("metric", ["ip", "cosine"])
def test_ties_list_the_lower_index_first(backend, metric):
    _skip_unavailable(backend)
    queries, keys = _tied_inputs()
    scores, indices = hubkit.ops.topk_similarity(queries, keys, 90, metric, backend=backend)
    exact = torch.from_numpy(_exact(queries, keys, metric)).float()
    for row in range(len(queries)):
        # the oracle: sort by (-score, index) with numpy's stable lexsort
        want = np.lexsort((np.arange(len(keys)), -exact[row].numpy()))[:90]
        assert indices[row].tolist() == want.tolist(), f"query {row}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_vectors_have_cosine_zero(backend):
    _skip_unavailable(backend)
    keys = torch.tensor([[0.0, 0.0], [1.0, 0.0], [-1.0, 0.0]])
    scores, indices = hubkit.ops.topk_similarity(torch.tensor([[3.0, 0.0], [0.0, 0.0]]), keys,
                                                 3, "cosine", backend=backend)
    assert scores.tolist() == [[1.0, 0.0, -1.0], [0.0, 0.0, 0.0]]
    assert indices.tolist() == [[1, 0, 2], [0, 1, 2]]


@pytest.mark.parametrize("backend", BACKENDS)
def test_topk_passes_opcheck(backend, gen):
    _skip_unavailable(backend)
    queries, keys = torch.randn(6, 9, generator=gen), torch.randn(40, 9, generator=gen)
    for metric in ("ip", "cosine"):
        torch.library.opcheck(torch.ops.hubkit.topk_similarity.default,
                              (queries, keys, 4, metric, backend))


def test_topk_works_under_torch_compile(gen):
    queries, keys = torch.randn(6, 9, generator=gen), torch.randn(40, 9, generator=gen)
    fn = torch.compile(lambda q, k: hubkit.ops.topk_similarity(q, k, 5, "cosine"),
                       fullgraph=True)
    scores, indices = fn(queries, keys)
    want_s, want_i = reference.topk_similarity_reference(queries, keys, 5, "cosine")
    torch.testing.assert_close(scores, want_s)
    assert torch.equal(indices, want_i)


def test_scores_are_not_differentiable(gen):
    queries = torch.randn(3, 4, generator=gen, requires_grad=True)
    scores, _ = hubkit.ops.topk_similarity(queries, torch.randn(8, 4, generator=gen), 2)
    assert not scores.requires_grad


def test_default_backend_on_cpu_is_cpp_when_built():
    from hubkit._backend import resolve

    expected = "cpp" if "cpp" in hubkit.ops.available_backends() else "reference"
    assert resolve(SPEC, torch.device("cpu")) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_topk_leaves_inputs_unchanged(backend, gen):
    _skip_unavailable(backend)
    queries, keys = torch.randn(6, 9, generator=gen), torch.randn(40, 9, generator=gen)
    before = queries.clone(), keys.clone()
    hubkit.ops.topk_similarity(queries, keys, 4, "cosine", backend=backend)
    assert torch.equal(queries, before[0]) and torch.equal(keys, before[1])


def _with_threads(n, fn):
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        return fn()
    finally:
        torch.set_num_threads(previous)


def test_cpp_answer_does_not_depend_on_the_thread_count(gen):
    """Per-thread heaps merged at the end: 3 threads give bit for bit what 1 gives."""
    _skip_unavailable("cpp")
    queries, keys = torch.randn(33, 16, generator=gen), torch.randn(3000, 16, generator=gen)
    run = lambda: hubkit.ops.topk_similarity(queries, keys, 8, backend="cpp")  # noqa: E731
    one, three = _with_threads(1, run), _with_threads(3, run)
    assert torch.equal(one[0], three[0]) and torch.equal(one[1], three[1])


BAD = [
    (dict(k=0), "k: expected an int >= 1"),
    (dict(k=2.0), "k: expected an int"),
    (dict(k=11), "k: asked for the top 11, but keys has only N=10"),
    (dict(metric="l2"), "metric: expected one of"),
    (dict(keys=torch.randn(10, 3)), "keys: expected (N, D) with D=4"),
    (dict(queries=torch.randn(4)), "queries: expected 2 dims"),
    (dict(keys=torch.randn(10, 4, dtype=torch.float64)), "keys: dtype"),
    (dict(queries=torch.zeros(2, 4, dtype=torch.int64)), "queries: dtype int64"),
    (dict(queries=[[1.0] * 4]), "queries: expected a torch.Tensor"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[m for _, m in BAD])
def test_bad_input_is_rejected_naming_the_argument(change, message):
    args = dict(queries=torch.randn(2, 4), keys=torch.randn(10, 4), k=3, metric="ip")
    args.update(change)
    with pytest.raises((ValueError, TypeError)) as err:
        hubkit.ops.topk_similarity(**args)
    assert message in str(err.value)


def test_float64_on_cpp_names_the_dtype():
    q = torch.randn(2, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="queries: dtype float64 is not supported by the 'cpp'"):
        hubkit.ops.topk_similarity(q, q, 1, backend="cpp")
