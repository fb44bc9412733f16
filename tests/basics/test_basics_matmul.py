"""matmul_loops and matmul_blocked against numpy and torch."""

import numpy as np
import pytest
import torch

from hubkit.basics.reference import matmul_blocked, matmul_loops

SHAPES = [(1, 1, 1), (3, 5, 7), (17, 33, 9), (40, 1, 3)]


@pytest.mark.parametrize("n,k,m", SHAPES)
def test_matmul_loops_matches_numpy(n, k, m):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    np.testing.assert_allclose(matmul_loops(a, b), a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tile", [1, 4, 16, 64])
@pytest.mark.parametrize("n,k,m", SHAPES)
def test_matmul_blocked_matches_torch_with_tail_tiles(n, k, m, tile):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((n, k)), rng.standard_normal((k, m))
    expected = torch.from_numpy(a) @ torch.from_numpy(b)
    np.testing.assert_allclose(matmul_blocked(a, b, tile=tile), expected.numpy(),
                               rtol=1e-12, atol=1e-12)


def test_matmul_blocked_accepts_non_contiguous_views():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((12, 10))[::2, 1::2]  # (6, 5), strided
    b = rng.standard_normal((5, 9)).T.copy().T    # (5, 9), Fortran order
    np.testing.assert_allclose(matmul_blocked(a, b, tile=4), a @ b, rtol=1e-12)


def test_matmul_float16_accumulates_in_float64():
    # subtle: a float16 running sum stalls at 2048 (2048 + 1 rounds back to 2048),
    # while 3000 itself is representable, so only a wide accumulator gets it right.
    a = np.full((1, 3000), 1.0, dtype=np.float16)
    b = np.full((3000, 1), 1.0, dtype=np.float16)
    for fn in (matmul_loops, matmul_blocked):
        out = fn(a, b)
        assert out.dtype == np.float16
        assert float(out[0, 0]) == 3000.0


def test_matmul_does_not_modify_inputs():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    a0, b0 = a.copy(), b.copy()
    matmul_blocked(a, b)
    matmul_loops(a, b)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


@pytest.mark.parametrize("fn", [matmul_loops, matmul_blocked])
def test_matmul_rejects_mismatched_inner_dims_naming_b(fn):
    with pytest.raises(ValueError, match="^b:"):
        fn(np.ones((2, 3)), np.ones((4, 2)))


@pytest.mark.parametrize("fn", [matmul_loops, matmul_blocked])
def test_matmul_rejects_non_matrix_naming_a(fn):
    with pytest.raises(ValueError, match="^a:"):
        fn(np.ones(3), np.ones((3, 2)))


def test_matmul_blocked_rejects_bad_tile():
    with pytest.raises(ValueError, match="^tile:"):
        matmul_blocked(np.ones((2, 2)), np.ones((2, 2)), tile=0)
