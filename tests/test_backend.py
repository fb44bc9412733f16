"""hubkit._backend: the backend choice holds under torch.compile, per thread, with clear errors."""

from __future__ import annotations

import threading

import pytest
import torch

import hubkit
from hubkit import _backend, _ext
from hubkit.activations import reference


class _CountingCpp:
    """hubkit._C, counting calls of bias_gelu_forward (proof that the cpp kernel ran)."""

    def __init__(self, real):
        self.real, self.calls = real, 0

    def bias_gelu_forward(self, *args):
        self.calls += 1
        return self.real.bias_gelu_forward(*args)

    def __getattr__(self, name):
        return getattr(self.real, name)


@pytest.fixture
def cpp_spy(monkeypatch):
    if "cpp" not in hubkit.ops.available_backends():
        pytest.skip("hubkit._C not built here")
    spy = _CountingCpp(_ext.cpp_module())
    monkeypatch.setattr(_ext, "cpp_module", lambda: spy)
    return spy


class _CountingBackend:
    """A torch.compile backend that counts the graphs it is handed (one per (re)compile)."""

    def __init__(self):
        self.graphs = 0

    def __call__(self, gm, example_inputs):
        self.graphs += 1
        return gm.forward


def _inputs():
    g = torch.Generator().manual_seed(0)
    return torch.randn(4, 9, generator=g), torch.randn(9, generator=g)


def test_use_backend_around_a_compiled_call_picks_the_kernel_that_runs(cpp_spy):
    counter = _CountingBackend()
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b) * 2, backend=counter,
                       fullgraph=True)
    x, b = _inputs()
    want = reference.bias_gelu_reference(x, b) * 2

    with hubkit.ops.use_backend("cpp"):
        torch.testing.assert_close(fn(x, b), want)
    assert cpp_spy.calls == 1
    with hubkit.ops.use_backend("reference"):
        torch.testing.assert_close(fn(x, b), want)
    assert cpp_spy.calls == 1, "use_backend('reference') around a compiled call ran cpp"
    assert counter.graphs == 2, "a change of use_backend must recompile"
    with hubkit.ops.use_backend("cpp"):
        fn(x, b)
    assert cpp_spy.calls == 2 and counter.graphs == 2  # the first graph is reused


def test_default_choice_under_compile_follows_use_backend_after_it_ends(cpp_spy):
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b), backend="eager")
    x, b = _inputs()
    with hubkit.ops.use_backend("reference"):
        fn(x, b)
    assert cpp_spy.calls == 0
    fn(x, b)  # no block: the device's default, cpp
    assert cpp_spy.calls == 1


def test_compiled_backward_runs_the_backend_of_its_forward(cpp_spy):
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b), backend="aot_eager")
    x, b = (t.requires_grad_() for t in _inputs())
    with hubkit.ops.use_backend("reference"):
        fn(x, b).sum().backward()
    assert cpp_spy.calls == 0
    x64, b64 = (t.detach().double().requires_grad_() for t in (x, b))
    reference.bias_gelu_reference(x64, b64).sum().backward()
    torch.testing.assert_close(b.grad.double(), b64.grad, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["cuda", "triton"])
def test_gpu_backend_on_cpu_tensors_under_compile_raises(name, monkeypatch):
    monkeypatch.setenv("TRITON_INTERPRET", "0")  # triton on CPU would otherwise be allowed
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b), backend="eager")
    x, b = _inputs()
    fn(x, b)  # compiled once with the default backend
    with pytest.raises((hubkit.ops.BackendUnavailableError, ValueError), match=repr(name)):
        with hubkit.ops.use_backend(name):
            fn(x, b)


def test_gpu_backend_on_cpu_tensors_under_fullgraph_compile_raises():
    fn = torch.compile(lambda x, b: hubkit.ops.bias_gelu(x, b), backend="eager", fullgraph=True)
    x, b = _inputs()
    with pytest.raises(Exception, match="'cuda'"):
        with hubkit.ops.use_backend("cuda"):
            fn(x, b)


def test_cuda_backend_on_a_machine_without_a_gpu_says_no_cuda_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(_backend, "unavailable_reason", lambda name: None)  # as if _cuda built
    spec = _backend.OpBackends("demo", cpu=("reference",), cuda=("cuda", "reference"))
    with pytest.raises(hubkit.ops.BackendUnavailableError, match="'cuda': no CUDA device"):
        _backend.resolve(spec, torch.device("cpu"), "cuda")


def test_cuda_backend_on_cpu_tensors_with_a_gpu_says_move_the_inputs(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(_backend, "unavailable_reason", lambda name: None)
    spec = _backend.OpBackends("demo", cpu=("reference",), cuda=("cuda", "reference"))
    with pytest.raises(ValueError, match="cannot run hubkit.ops.demo on cpu tensors; move"):
        _backend.resolve(spec, torch.device("cpu"), "cuda")


def test_use_backend_is_per_thread():
    seen = []
    with hubkit.ops.use_backend("reference"):
        t = threading.Thread(target=lambda: seen.append(_backend.forced_backend()))
        t.start()
        t.join()
        assert _backend.forced_backend() == "reference"
    assert seen == [None] and _backend.forced_backend() is None


def test_use_backend_blocks_nest_and_restore():
    with hubkit.ops.use_backend("reference"):
        with hubkit.ops.use_backend("cpp"):
            assert _backend.forced_backend() == "cpp"
        assert _backend.forced_backend() == "reference"
    assert _backend.forced_backend() is None
