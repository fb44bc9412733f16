"""hubkit.ops.bias_gelu: every available backend against the reference, forward and backward."""

from __future__ import annotations

import pytest
import torch

import hubkit
from hubkit.activations import reference
from hubkit.activations.ops import DTYPES

# (backend, device, dtypes it claims on that device); unavailable ones are skipped.
CASES = [
    ("reference", "cpu", (torch.float32, torch.float64)),
    ("cpp", "cpu", (torch.float32, torch.float64)),
    ("triton", "cpu", (torch.float32,)),  # interpreter: no bf16, float16 math is slow
    ("cuda", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
    ("triton", "cuda", (torch.float32, torch.float16, torch.bfloat16)),
]
# Tolerance written next to each dtype (relative to the output scale).
TOL = {torch.float64: 1e-12, torch.float32: 1e-5, torch.float16: 2e-3, torch.bfloat16: 2e-2}
SHAPES = [(1, 1), (5, 123), (3, 7, 33), (2, 1025)]


def _params():
    out = []
    for backend, device, dtypes in CASES:
        marks = [pytest.mark.gpu] if device == "cuda" else []
        if backend == "triton":
            marks.append(pytest.mark.triton)
        for dtype in dtypes:
            out.append(pytest.param(backend, device, dtype, marks=marks,
                               id=f"{backend}-{device}-{str(dtype)[6:]}"))
    return out


def _skip_unavailable(backend: str, device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("needs a CUDA device")
    if backend not in hubkit.ops.available_backends():
        pytest.skip(f"backend {backend} not available here")


def _inputs(shape, dtype, device, gen, *, transpose=False):
    x = torch.randn(shape, generator=gen, dtype=torch.float64) * 3 + 0.5
    if transpose and x.dim() >= 2:  # a non-contiguous view of the same values
        x = x.transpose(-1, -2).contiguous().transpose(-1, -2)
    b = torch.randn(shape[-1], generator=gen, dtype=torch.float64)
    return x.to(device, dtype).requires_grad_(), b.to(device, dtype).requires_grad_()


@pytest.mark.parametrize("backend,device,dtype", _params())
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_bias_gelu_matches_float64_reference_forward_and_backward(backend, device, dtype, shape,
                                                                  gen):
    _skip_unavailable(backend, device)
    x, b = _inputs(shape, dtype, device, gen, transpose=True)
    y = hubkit.ops.bias_gelu(x, b, backend=backend)
    g = torch.randn(y.shape, generator=gen, dtype=torch.float64).to(device, dtype)
    gx, gb = torch.autograd.grad(y, (x, b), g)

    x64, b64 = x.detach().double().requires_grad_(), b.detach().double().requires_grad_()
    y64 = reference.bias_gelu_reference(x64, b64)
    gx64, gb64 = torch.autograd.grad(y64, (x64, b64), g.double())
    tol = TOL[dtype]
    for got, want in ((y, y64), (gx, gx64), (gb, gb64)):
        assert got.dtype == dtype
        scale = max(float(want.abs().max()), 1.0)
        torch.testing.assert_close(got.double(), want, atol=tol * scale, rtol=tol)


@pytest.mark.parametrize("backend,device,dtype", _params())
def test_bias_gelu_passes_opcheck(backend, device, dtype, gen):
    _skip_unavailable(backend, device)
    x, b = _inputs((3, 17), dtype, device, gen)
    torch.library.opcheck(torch.ops.hubkit.bias_gelu.default, (x, b, backend))
    g = torch.randn(3, 17, generator=gen).to(device, dtype)
    torch.library.opcheck(torch.ops.hubkit.bias_gelu_backward.default,
                          (g, x.detach(), b.detach(), backend))


def test_bias_gelu_default_backend_on_cpu_is_cpp_when_built():
    from hubkit._backend import resolve
    from hubkit.activations.ops import SPEC

    expected = "cpp" if "cpp" in hubkit.ops.available_backends() else "reference"
    assert resolve(SPEC, torch.device("cpu")) == expected


def test_bias_gelu_works_under_torch_compile(gen):
    x, b = _inputs((4, 9), torch.float32, "cpu", gen)
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b) * 2, fullgraph=True)
    y = fn(x, b)
    y.sum().backward()
    want = reference.bias_gelu_reference(x.detach(), b.detach()) * 2
    torch.testing.assert_close(y, want)
    assert x.grad is not None and b.grad is not None


def test_bias_gelu_leaves_inputs_unchanged(gen):
    x, b = _inputs((5, 6), torch.float64, "cpu", gen)
    x0, b0 = x.detach().clone(), b.detach().clone()
    hubkit.ops.bias_gelu(x, b).sum().backward()
    assert torch.equal(x.detach(), x0) and torch.equal(b.detach(), b0)


def test_bias_gelu_use_backend_context_forces_the_backend(monkeypatch):
    seen = []
    real = torch.ops.hubkit.bias_gelu

    def spy(x, b, name):
        seen.append(name)
        return real(x, b, name)

    monkeypatch.setattr(torch.ops.hubkit, "bias_gelu", spy)
    with hubkit.ops.use_backend("reference"):
        hubkit.ops.bias_gelu(torch.ones(2, 2), torch.ones(2))
    assert seen == ["reference"]


@pytest.mark.parametrize("name,error", [
    ("cuda", (hubkit.ops.BackendUnavailableError, ValueError)),
    ("nonsense", (ValueError,)),
])
def test_bias_gelu_unavailable_backend_raises_with_how_to(name, error):
    if name == "cuda" and torch.cuda.is_available():
        pytest.skip("cuda is available here")
    with pytest.raises(error, match="backend"):
        hubkit.ops.bias_gelu(torch.ones(2, 2), torch.ones(2), backend=name)


def test_bias_gelu_cuda_backend_without_a_gpu_says_there_is_no_cuda_device():
    if torch.cuda.is_available():
        pytest.skip("cuda is available here")
    with pytest.raises(hubkit.ops.BackendUnavailableError, match="'cuda': no CUDA device"):
        hubkit.ops.bias_gelu(torch.ones(2, 2), torch.ones(2), backend="cuda")


def test_triton_without_interpreter_or_gpu_raises_the_documented_error(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("a GPU runs triton")
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    with pytest.raises(hubkit.ops.BackendUnavailableError,
                       match="no CUDA device.*TRITON_INTERPRET=1"):
        hubkit.ops.bias_gelu(torch.ones(2, 2), torch.ones(2), backend="triton")


@pytest.mark.parametrize("x,b,match", [
    (torch.ones(2, 3), torch.ones(4), "bias: expected shape"),
    (torch.ones(2, 3), torch.ones(3, dtype=torch.float64), "bias: dtype"),
    (torch.ones(2, 3, dtype=torch.int64), torch.ones(3), "x: dtype"),
    (torch.ones(2, 3), torch.ones(1, 3), "bias: expected 1 dims"),
    ("not a tensor", torch.ones(3), "x: expected a torch.Tensor"),
])
def test_bias_gelu_bad_input_names_the_argument(x, b, match):
    with pytest.raises((ValueError, TypeError), match=match):
        hubkit.ops.bias_gelu(x, b)


def test_cpp_backend_rejects_half_with_a_clear_error():
    if "cpp" not in hubkit.ops.available_backends():
        pytest.skip("cpp not built")
    assert torch.float16 not in DTYPES["cpp"]
    with pytest.raises(ValueError, match="x: dtype float16"):
        hubkit.ops.bias_gelu(torch.ones(2, 2, dtype=torch.float16),
                             torch.ones(2, dtype=torch.float16), backend="cpp")


def test_linear_gelu_matches_torch_linear_then_gelu(gen):
    layer = hubkit.nn.LinearGELU(7, 5).double()
    ref = torch.nn.Sequential(torch.nn.Linear(7, 5), torch.nn.GELU()).double()
    ref[0].load_state_dict(layer.state_dict())
    x = torch.randn(3, 7, generator=gen, dtype=torch.float64)
    torch.testing.assert_close(layer(x), ref(x))
