"""hubkit.ops.topk_similarity backend="triton": the block top-k kernel against exact search.

Without a GPU these run in Triton's interpreter (tests/conftest.py sets TRITON_INTERPRET=1
before triton is first imported), so the shapes stay small.
"""

from __future__ import annotations

import pytest
import torch
from test_topk_similarity import _exact, _tied_inputs, assert_valid_topk

import hubkit
from hubkit._backend import triton_interpreted

pytestmark = pytest.mark.triton

DEV = "cuda" if torch.cuda.is_available() else "cpu"
# (Q, N, D, k), metric: tails past each block (16 queries, 64 keys, 32 dims per block)
CASES = [((1, 1, 1, 1), "ip"), ((19, 150, 40, 10), "cosine"), ((3, 70, 20, 12), "ip")]


@pytest.fixture(autouse=True)
def _needs_triton():
    if "triton" not in hubkit.ops.available_backends():
        pytest.skip("triton is not installed")
    if DEV == "cpu" and not triton_interpreted():
        pytest.skip("triton on CPU tensors needs TRITON_INTERPRET=1")


@pytest.mark.parametrize("shape,metric", CASES, ids=str)
def test_triton_topk_matches_exact_search(shape, metric, gen):
    q, n, d, k = shape
    queries, keys = torch.randn(q, d, generator=gen), torch.randn(n, d, generator=gen)
    scores, indices = hubkit.ops.topk_similarity(queries.to(DEV), keys.to(DEV), k, metric,
                                                 backend="triton")
    assert_valid_topk(scores.cpu(), indices.cpu(), queries, keys, k, metric)


def test_triton_ties_list_the_lower_index_first():
    import numpy as np

    queries, keys = _tied_inputs()
    keys = keys[:100]  # two key blocks of 64: query [0, 1] ties 16 keys in the first, more after
    _, indices = hubkit.ops.topk_similarity(queries.to(DEV), keys.to(DEV), 20, "cosine",
                                            backend="triton")
    exact = torch.from_numpy(_exact(queries, keys, "cosine")).float().numpy()
    for row in range(len(queries)):
        want = np.lexsort((np.arange(len(keys)), -exact[row]))[:20]
        assert indices[row].cpu().tolist() == want.tolist(), f"query {row}"


def test_triton_topk_passes_opcheck(gen):
    queries, keys = torch.randn(5, 8, generator=gen), torch.randn(30, 8, generator=gen)
    torch.library.opcheck(torch.ops.hubkit.topk_similarity.default,
                          (queries.to(DEV), keys.to(DEV), 3, "ip", "triton"))
