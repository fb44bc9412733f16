"""hubkit._op.Op: a new op is one declaration plus its kernels.

The demo op below uses every option the template has (an optional tensor, a
float, a non-differentiable second output, outputs handed to the backward), and
gets what the four real ops get: opcheck, gradients, torch.compile, dtype errors.
"""

from __future__ import annotations

import pytest
import torch

from hubkit._backend import OpBackends
from hubkit._op import Op


def _forward(x, bias, alpha):
    y = alpha * x if bias is None else alpha * x + bias
    return y, y.abs().sum(-1)


def _backward(grad_y, x, bias, alpha, y, norm):
    return alpha * grad_y, None if bias is None else grad_y.sum(0)


AXPY = Op(
    name="test_axpy", args="Tensor x, Tensor? bias, float alpha", outputs=("y", "norm"),
    grad_outputs=("y",), save_outputs=True,
    backends=OpBackends("test_axpy", cpu=("reference",), cuda=("reference",)),
    dtypes={"reference": (torch.float32, torch.float64)},
    forward={"reference": _forward}, backward={"reference": _backward},
    fake=lambda x, bias, alpha: (torch.empty_like(x), x.new_empty(x.shape[:-1])),
    differentiable=("x", "bias"),
)


def _x(*shape, grad=True):
    g = torch.Generator().manual_seed(0)
    return torch.randn(*shape, generator=g, dtype=torch.float64).requires_grad_(grad)


def test_declared_op_registers_both_torch_ops_with_their_schemas():
    assert str(torch.ops.hubkit.test_axpy.default._schema) == (
        "hubkit::test_axpy(Tensor x, Tensor? bias, float alpha, str backend) -> (Tensor, Tensor)")
    assert str(torch.ops.hubkit.test_axpy_backward.default._schema) == (
        "hubkit::test_axpy_backward(Tensor grad_y, Tensor x, Tensor? bias, float alpha, "
        "Tensor y, Tensor norm, str backend) -> (Tensor, Tensor)")


@pytest.mark.parametrize("with_bias", [True, False])
def test_declared_op_passes_opcheck(with_bias):
    x, b = _x(3, 4), (_x(4) if with_bias else None)
    torch.library.opcheck(torch.ops.hubkit.test_axpy.default, (x, b, 0.5, "reference"))
    y, norm = torch.ops.hubkit.test_axpy(x, b, 0.5, "reference")
    b = None if b is None else b.detach()
    args = (torch.ones(3, 4, dtype=torch.float64), x.detach(), b, 0.5, y.detach(), norm,
            "reference")
    torch.library.opcheck(torch.ops.hubkit.test_axpy_backward.default, args)


def test_declared_op_gradients_match_gradcheck_and_absent_inputs_get_none():
    x, b = _x(3, 4), _x(4)
    assert torch.autograd.gradcheck(lambda x, b: AXPY(x, b, 0.5, device=x.device,
                                                      backend=None)[0], (x, b))
    y, norm = AXPY(x, None, 2.0, device=x.device, backend=None)
    assert not norm.requires_grad  # not in grad_outputs
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 2.0))


def test_declared_op_runs_under_torch_compile():
    x, b = _x(3, 4), _x(4)
    fn = torch.compile(lambda x, b: AXPY(x, b, 0.5, device=x.device, backend=None)[0] * 2,
                       backend="aot_eager", fullgraph=True)
    fn(x, b).sum().backward()
    torch.testing.assert_close(b.grad, torch.full_like(b, 6.0))


def test_declared_op_rejects_a_dtype_its_backend_lacks_naming_the_argument():
    x = torch.ones(2, 2, dtype=torch.float16)
    with pytest.raises(ValueError, match="x: dtype float16 is not supported by the 'reference' "
                                         "backend of hubkit.ops.test_axpy"):
        AXPY(x, None, 1.0, device=x.device, backend=None)
    with pytest.raises(ValueError, match="x: dtype float16"):  # the torch op checks too
        torch.ops.hubkit.test_axpy(x, None, 1.0, "reference")
