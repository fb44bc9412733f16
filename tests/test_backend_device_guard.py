"""Every hubkit._cuda launch gets the tensors' device index and that device's current stream.

The C++ side (csrc/cuda_common.cuh, DeviceGuard) makes the device current for the
launch and restores the caller's; these tests check the Python half with a recording
stand-in for hubkit._cuda, so they run without a GPU, and the compiled signatures
where hubkit._cuda was built.
"""

from __future__ import annotations

import types

import pytest
import torch

from hubkit import _ext
from hubkit.activations import ops as activation_ops
from hubkit.cnn import ops as cnn_ops


class _Recorder:
    """Stands in for hubkit._cuda: records each call's arguments, touches no memory."""

    def __init__(self):
        self.calls = []

    def __getattr__(self, name):
        return lambda *args: self.calls.append((name, args))


@pytest.fixture
def launches(monkeypatch):
    rec = _Recorder()
    monkeypatch.setattr(_ext, "cuda_module", lambda: rec)
    monkeypatch.setattr(_ext, "cuda_launch", lambda device: (3, 0xABC))
    # subtle: conv2d asks the device's capability to pick its kernel; float32 without TF32
    # takes conv2d.cu's kernel on any GPU, so any answer does here.
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))
    return rec


def test_cuda_launch_is_the_tensor_device_index_and_its_current_stream(monkeypatch):
    asked = []

    def current_stream(device):
        asked.append(device)
        return types.SimpleNamespace(cuda_stream=1234)

    monkeypatch.setattr(torch.cuda, "current_stream", current_stream)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    assert _ext.cuda_launch(torch.device("cuda", 1)) == (1, 1234)
    assert asked == [torch.device("cuda", 1)]
    assert _ext.cuda_launch(torch.device("cuda")) == (0, 1234)  # no index: the current one


@pytest.mark.parametrize("kernel,args", [
    (activation_ops._forward_cuda, lambda: (torch.ones(2, 3), torch.ones(3))),
    (activation_ops._backward_cuda, lambda: (torch.ones(2, 3), torch.ones(2, 3), torch.ones(3))),
    (cnn_ops._forward_cuda,
     lambda: (torch.ones(1, 2, 5, 5), torch.ones(4, 2, 3, 3), None, [1, 1], [0, 0], [1, 1], 1)),
    (cnn_ops._backward_cuda,
     lambda: (torch.ones(1, 4, 3, 3), torch.ones(1, 2, 5, 5), torch.ones(4, 2, 3, 3), None,
              [1, 1], [0, 0], [1, 1], 1)),
])
def test_every_cuda_kernel_passes_device_then_stream_last(launches, kernel, args):
    kernel(*args())
    assert len(launches.calls) == 1
    assert launches.calls[0][1][-2:] == (3, 0xABC)


def test_compiled_cuda_entry_points_take_device_then_stream():
    mod = _ext.cuda_module()
    if mod is None:
        pytest.skip(f"hubkit._cuda not built here: {_ext.build_info().get('cuda')}")
    for name in ("bias_gelu_forward", "bias_gelu_backward", "conv2d_forward", "conv2d_backward"):
        signature = getattr(mod, name).__doc__.splitlines()[0]
        assert "device: " in signature and signature.index("device: ") < signature.index(
            "stream: "), signature


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two CUDA devices")
def test_cuda_kernels_run_on_the_tensors_device_not_the_current_one():
    import hubkit

    x = torch.randn(64, 33, device="cuda:1")
    b = torch.randn(33, device="cuda:1")
    with torch.cuda.device(0):
        y = hubkit.ops.bias_gelu(x, b, backend="cuda")
        assert torch.cuda.current_device() == 0  # restored
    torch.testing.assert_close(y, torch.nn.functional.gelu(x + b), atol=1e-5, rtol=1e-5)
