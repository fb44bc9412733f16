"""hubkit.cnn.reference (NumPy) against torch.nn.functional in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hubkit.cnn import reference as ref

# (N, C, H, W, K, R, S, stride, padding, dilation, groups): odd sizes, every knob.
CASES = [
    (1, 1, 5, 5, 1, 3, 3, 1, 0, 1, 1),
    (2, 3, 7, 6, 4, 3, 2, 1, 1, 1, 1),
    (2, 4, 9, 8, 6, 3, 3, (2, 1), (1, 2), 1, 2),
    (1, 6, 11, 10, 3, 2, 3, 1, 2, (2, 3), 3),
    (3, 4, 8, 9, 4, 1, 1, 3, 0, 1, 4),
]
IDS = ["plain", "pad", "stride-groups", "dilation-groups", "depthwise-1x1-stride"]


def _data(case, seed=0):
    n, c, h, w, k, r, s, stride, padding, dilation, groups = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((k, c // groups, r, s))
    b = rng.standard_normal(k)
    return x, wt, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _torch_grads(x, wt, b, kw, gy):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, wt, b))
    y = F.conv2d(tx, tw, tb, **kw)
    y.backward(torch.tensor(gy))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("impl", [ref.conv2d_naive, ref.conv2d_im2col], ids=["naive", "im2col"])
def test_conv2d_reference_forward_matches_torch(case, impl):
    x, wt, b, kw = _data(case)
    want = F.conv2d(torch.tensor(x), torch.tensor(wt), torch.tensor(b), **kw).numpy()
    np.testing.assert_allclose(impl(x, wt, b, **kw), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
@pytest.mark.parametrize("impl", [ref.conv2d_backward, ref.conv2d_backward_naive],
                         ids=["im2col", "naive"])
def test_conv2d_reference_backward_matches_torch(case, impl):
    x, wt, b, kw = _data(case)
    y = ref.conv2d_im2col(x, wt, b, **kw)
    gy = np.random.default_rng(1).standard_normal(y.shape)
    _, gx, gw, gb = _torch_grads(x, wt, b, kw, gy)
    for got, want in zip(impl(gy, x, wt, **kw), (gx, gw, gb), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_col2im_is_the_adjoint_of_im2col():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 7, 8))
    args = ((3, 2), (2, 1), (1, 2), (1, 2))
    cols = ref.im2col(x, *args)
    c = rng.standard_normal(cols.shape)
    # <im2col(x), c> == <x, col2im(c)> for every x and c
    assert np.isclose((cols * c).sum(), (x * ref.col2im(c, x.shape, *args)).sum(), rtol=1e-12)


POOLS = [((2, 2), None, 0), (3, 2, 1), ((3, 2), (1, 2), (1, 0))]


@pytest.mark.parametrize("kernel,stride,padding", POOLS, ids=str)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_reference_matches_torch_forward_and_backward(kind, kernel, stride, padding):
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 8))
    fwd, bwd = ((ref.max_pool2d, ref.max_pool2d_backward) if kind == "max"
                else (ref.avg_pool2d, ref.avg_pool2d_backward))
    tfn = F.max_pool2d if kind == "max" else F.avg_pool2d
    tx = torch.tensor(x, requires_grad=True)
    ty = tfn(tx, kernel, stride, padding)
    gy = np.random.default_rng(4).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(gy))
    np.testing.assert_allclose(fwd(x, kernel, stride, padding), ty.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(bwd(gy, x, kernel, stride, padding), tx.grad.numpy(),
                               rtol=1e-12, atol=1e-12)


def test_out_size_matches_the_formula_on_an_example():
    # 32 + 2*1 - 2*(3-1) - 1 = 29; 29 // 2 + 1 = 15
    assert ref.out_size(32, 3, stride=2, pad=1, dilation=2) == 15
