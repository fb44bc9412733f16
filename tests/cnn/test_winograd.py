"""hubkit.ops.conv2d's Winograd path (cpp backend): values, gradients, cache, dispatch, errors.

float64 must match torch up to rounding (1e-10 of the output scale). float32 is held
to the checker's policy (`hubkit.check.compare.tolerance`: 2e-6 * sqrt(reduction
length) of the output scale), which F(4,3)'s measured error (about 1e-5 of the
largest output at C = 128, see `hubkit.cnn.winograd`) passes with room to spare.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import hubkit
from hubkit.check.compare import tolerance
from hubkit.cnn import winograd
from hubkit.cnn.ops import cpp_algorithm

pytestmark = pytest.mark.skipif("cpp" not in hubkit.ops.available_backends(),
                                reason="hubkit._C not built")
WINOGRAD = ["winograd2", "winograd4"]

# (N, C, H, W, K, padding): odd sizes (tiles that do not divide), every padding up
# to 3 (grad_x then runs at padding -1), N=1, C=1, K=1, more channels than a vector.
CONFIGS = [
    (2, 3, 7, 9, 5, 1),
    (1, 1, 3, 3, 1, 0),
    (1, 2, 5, 4, 1, 2),
    (3, 1, 6, 11, 4, (2, 0)),
    (1, 19, 9, 10, 37, (0, 1)),
    (2, 5, 4, 6, 3, 3),
]


def _inputs(n, c, h, w, k, dtype, gen, kaiming=False):
    x = torch.randn(n, c, h, w, generator=gen, dtype=torch.float64)
    wt = torch.randn(k, c, 3, 3, generator=gen, dtype=torch.float64)
    wt = wt * (2 / (9 * c)) ** 0.5 if kaiming else wt
    b = torch.randn(k, generator=gen, dtype=torch.float64)
    return [t.to(dtype).requires_grad_() for t in (x, wt, b)]


def _compare(x, w, b, padding, algorithm, gen, tol):
    """Forward and the three gradients against torch in float64; tol(name) -> rel tolerance."""
    y = hubkit.ops.conv2d(x, w, b, 1, padding, backend="cpp", algorithm=algorithm)
    gy = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(x.dtype)
    got = (y, *torch.autograd.grad(y, (x, w, b), gy))
    x64, w64, b64 = (t.detach().double().requires_grad_() for t in (x, w, b))
    y64 = F.conv2d(x64, w64, b64, 1, padding)
    want = (y64, *torch.autograd.grad(y64, (x64, w64, b64), gy.double()))
    for name, g, r in zip(("y", "grad_x", "grad_w", "grad_b"), got, want, strict=True):
        assert g.dtype == x.dtype and g.shape == r.shape, name
        scale = max(float(r.detach().abs().max()), 1e-30)
        torch.testing.assert_close(g.double(), r.detach(), atol=tol(name) * scale, rtol=0,
                                   msg=lambda m, name=name: f"{name}: {m}")


@pytest.mark.parametrize("algorithm", WINOGRAD)
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_winograd_is_exact_up_to_rounding_in_float64(algorithm, cfg, gen):
    n, c, h, w, k, pad = cfg
    x, wt, b = _inputs(n, c, h, w, k, torch.float64, gen)
    _compare(x, wt, b, pad, algorithm, gen, lambda name: 1e-10)


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_winograd_float32_within_the_checker_tolerance(algorithm, gen):
    n, c, h, w, k = 2, 64, 13, 10, 48
    x, wt, b = _inputs(n, c, h, w, k, torch.float32, gen, kaiming=True)
    reduction = {"y": 9 * c, "grad_x": 9 * k, "grad_w": n * h * w, "grad_b": n * h * w}
    _compare(x, wt, b, 1, algorithm, gen,
             lambda name: tolerance(torch.float32, reduction[name]))


@pytest.mark.parametrize("isa", ["avx512", "avx2", "base"])
@pytest.mark.parametrize("m", [2, 4])
def test_every_compiled_simd_path_matches_torch(isa, m, gen):
    x, w, _ = (t.detach() for t in _inputs(2, 19, 7, 10, 37, torch.float64, gen))
    b = torch.randn(37, generator=gen, dtype=torch.float64)
    try:
        y = winograd.conv2d_winograd(x, w, b, [1, 2], m, isa)
    except ValueError as e:
        pytest.skip(str(e))  # a SIMD path this CPU lacks
    torch.testing.assert_close(y, F.conv2d(x, w, b, 1, (1, 2)))
    gy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
    gx, gw, _ = torch.ops.aten.convolution_backward(gy, x, w, None, [1, 1], [1, 2], [1, 1], False,
                                                    [0, 0], 1, [True, True, False])
    torch.testing.assert_close(winograd.grad_input_winograd(gy, w, [1, 2], m, isa), gx)
    torch.testing.assert_close(winograd.grad_weight_winograd(x, gy, [1, 2], m, isa), gw)


def test_an_unknown_simd_path_raises_value_error(gen):
    x, w, _ = (t.detach() for t in _inputs(1, 2, 5, 5, 2, torch.float64, gen))
    with pytest.raises(ValueError, match="isa must be"):
        winograd.conv2d_winograd(x, w, None, [1, 1], 4, "sse9")


@pytest.mark.parametrize("layout", ["channels_last", "transposed"])
def test_winograd_accepts_channels_last_and_non_contiguous_views(layout, gen):
    x, w, b = _inputs(2, 6, 9, 7, 5, torch.float64, gen)
    x = x.detach()
    x = (x.to(memory_format=torch.channels_last) if layout == "channels_last"
         else x.transpose(2, 3).contiguous().transpose(2, 3)).requires_grad_()
    wv = w.detach().transpose(2, 3).contiguous().transpose(2, 3).requires_grad_()
    _compare(x, wv, b, 1, "winograd4", gen, lambda name: 1e-10)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=str)
def test_winograd_passes_opcheck(dtype, gen):
    x, w, b = (t.detach() for t in _inputs(2, 3, 6, 5, 4, dtype, gen))
    args = ([1, 1], [1, 0], [1, 1], 1, "winograd4", "cpp")
    torch.library.opcheck(torch.ops.hubkit.conv2d.default, (x, w, b, *args))
    gy = torch.randn(2, 4, 6, 3, generator=gen).to(dtype)
    torch.library.opcheck(torch.ops.hubkit.conv2d_backward.default, (gy, x, w, b, *args))


@pytest.mark.parametrize("algorithm", WINOGRAD)
def test_winograd_passes_gradcheck(algorithm, gen):
    x, w, b = _inputs(1, 2, 5, 4, 3, torch.float64, gen)
    assert torch.autograd.gradcheck(
        lambda x, w, b: hubkit.ops.conv2d(x, w, b, padding=1, algorithm=algorithm), (x, w, b))


def test_filter_transform_is_cached_until_the_weight_changes_in_place(gen):
    x, w, _ = (t.detach() for t in _inputs(1, 4, 8, 8, 4, torch.float64, gen))
    run = lambda: hubkit.ops.conv2d(x, w, padding=1, algorithm="winograd4")  # noqa: E731
    before = winograd.FILTERS.misses
    run()
    run()
    assert winograd.FILTERS.misses == before + 1  # the second call reused U
    with torch.no_grad():
        w.mul_(-2.0)  # in place: same data_ptr, new _version
    torch.testing.assert_close(run(), F.conv2d(x, w, padding=1))
    assert winograd.FILTERS.misses == before + 2


def test_filter_cache_sees_writes_through_data_that_keep_the_version(gen):
    x, w, _ = (t.detach() for t in _inputs(1, 4, 8, 8, 4, torch.float64, gen))
    hubkit.ops.conv2d(x, w, padding=1, algorithm="winograd4")
    version = w._version
    w.data.add_(1.0)  # hand-written SGD style: _version stays
    assert w._version == version
    torch.testing.assert_close(hubkit.ops.conv2d(x, w, padding=1, algorithm="winograd4"),
                               F.conv2d(x, w, padding=1))


def test_filter_cache_never_matches_another_tensor_at_a_reused_address(gen):
    x = torch.randn(1, 3, 6, 6, generator=gen, dtype=torch.float64)
    for scale in (1.0, -3.0):  # each weight freed before the next is made
        w = torch.full((2, 3, 3, 3), scale, dtype=torch.float64)
        torch.testing.assert_close(hubkit.ops.conv2d(x, w, algorithm="winograd2"),
                                   F.conv2d(x, w))
        del w


def test_auto_takes_winograd4_where_it_pays_and_im2col_elsewhere():
    big, w3 = torch.empty(1, 64, 28, 28), torch.empty(64, 64, 3, 3)
    assert cpp_algorithm(big, w3, [1, 1], [1, 1], 1) == "winograd4"
    assert cpp_algorithm(torch.empty(1, 4, 28, 28), torch.empty(4, 4, 3, 3), [1, 1], [1, 1],
                         1) == "im2col"  # too few channels
    assert cpp_algorithm(big, w3, [2, 2], [1, 1], 1) == "im2col"
    assert cpp_algorithm(big, torch.empty(64, 64, 5, 5), [1, 1], [1, 1], 1) == "im2col"
    assert cpp_algorithm(big, w3, [1, 1], [1, 1], 1, "winograd2") == "winograd2"


def test_auto_runs_the_winograd_kernel_on_a_resnet_shape(monkeypatch, gen):
    calls = []
    real = winograd.conv2d_winograd
    monkeypatch.setattr(winograd, "conv2d_winograd", lambda *a: calls.append(a[-1]) or real(*a))
    x, w, b = (t.detach() for t in _inputs(1, 32, 10, 10, 32, torch.float64, gen))
    torch.testing.assert_close(hubkit.ops.conv2d(x, w, b, padding=1), F.conv2d(x, w, b, 1, 1))
    assert calls == [4]


BAD = [
    (dict(stride=2), "winograd4", "algorithm: 'winograd4' needs stride 1"),
    (dict(dilation=2), "winograd2", "algorithm: 'winograd2' needs dilation 1"),
    (dict(groups=2), "winograd4", r"algorithm: 'winograd4' needs groups=1"),
    (dict(kernel=5), "winograd4", "algorithm: 'winograd4' needs a 3x3 kernel"),
    (dict(backend="reference"), "winograd4", "algorithm: 'winograd4' picks a path of the cpp"),
    (dict(backend="reference"), "im2col", "the 'reference' backend has one algorithm"),
    (dict(), "fft", "algorithm: expected one of"),
]


@pytest.mark.parametrize("kwargs,algorithm,match", BAD, ids=[m[:24] for *_, m in BAD])
def test_a_forced_algorithm_that_cannot_apply_raises_value_error(kwargs, algorithm, match):
    kwargs = dict(kwargs)
    x = torch.ones(1, 4, 8, 8)
    w = torch.ones(4, 4 // kwargs.get("groups", 1), kwargs.pop("kernel", 3), 3)
    with pytest.raises(ValueError, match=match):
        hubkit.ops.conv2d(x, w, algorithm=algorithm, **kwargs)


def test_reference_backend_accepts_auto(gen):
    x, w, b = (t.detach() for t in _inputs(1, 2, 5, 5, 3, torch.float64, gen))
    y = hubkit.ops.conv2d(x, w, b, padding=1, backend="reference", algorithm="auto")
    torch.testing.assert_close(y, F.conv2d(x, w, b, 1, 1))


def test_winograd_works_under_torch_compile(gen):
    x, w, b = _inputs(2, 4, 8, 7, 4, torch.float32, gen)
    fn = torch.compile(lambda x, w, b: hubkit.ops.conv2d(x, w, b, 1, 1, algorithm="winograd4")
                       .relu().sum(), fullgraph=True)
    fn(x, w, b).backward()
    x2, w2, b2 = (t.detach().clone().requires_grad_() for t in (x, w, b))
    F.conv2d(x2, w2, b2, 1, 1).relu().sum().backward()
    for got, want in ((x.grad, x2.grad), (w.grad, w2.grad), (b.grad, b2.grad)):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_conv2d_layer_takes_the_winograd_path_and_matches_torch(gen):
    layer, ref = hubkit.nn.Conv2d(32, 16, 3, padding=1), torch.nn.Conv2d(32, 16, 3, padding=1)
    layer.load_state_dict(ref.state_dict())
    x = torch.randn(2, 32, 9, 9, generator=gen)
    y, want = layer(x), ref(x)
    torch.testing.assert_close(y, want, atol=1e-4, rtol=1e-4)
    y.square().sum().backward()
    want.square().sum().backward()
    torch.testing.assert_close(layer.weight.grad, ref.weight.grad, atol=1e-3, rtol=1e-4)
