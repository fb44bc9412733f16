"""Declaring a hubkit op: one `Op(...)` plus its kernels, nothing else.

Every optimized op is two torch ops, `hubkit::<name>` and `hubkit::<name>_backward`,
each taking the backend's name as its last argument, with fake (meta) kernels
so torch.compile and meta tensors know the output shapes, and autograd wiring
the backward op in. `Op` builds all of that from one declaration:

    Op(name="bias_gelu", args="Tensor x, Tensor bias", outputs=("y",),
       backends=OpBackends(...), dtypes={...},
       forward={"reference": f_ref, "cpp": f_cpp},      # f(x, bias) -> y
       backward={"reference": b_ref, "cpp": b_cpp},     # b(grad_y, x, bias) -> (gx, gbias)
       fake=lambda x, bias: torch.empty_like(x),
       differentiable=("x", "bias"))

The conventions every op shares:

* Kernels get every tensor input contiguous (except those named in `strided`)
  and return contiguous-able tensors; the op makes its outputs contiguous.
* A backward kernel takes the gradients of the outputs in `grad_outputs`, then
  the forward's inputs, then (with `save_outputs`) the forward's outputs, and
  returns one gradient per name in `differentiable`, each shaped like its input.
  A gradient for an input that was None is dropped (and may be None).
* Before anything runs, `Op.__call__` resolves the backend (`hubkit._backend`)
  and checks the first tensor's dtype against that backend's list.

Shapes: whatever the op declares; see each slice's ops.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch

from hubkit._backend import OpBackends, resolve

Kernel = Callable[..., object]


@dataclass(frozen=True)
class _Arg:
    type: str  # schema type: "Tensor", "Tensor?", "int[]", "float", "bool", "int"
    name: str

    @property
    def is_tensor(self) -> bool:
        return self.type.startswith("Tensor")


def _parse_args(args: str) -> tuple[_Arg, ...]:
    """"Tensor x, Tensor? bias, int[] stride" -> (_Arg, ...); every type is one word."""
    return tuple(_Arg(*a.strip().rsplit(" ", 1)) for a in args.split(","))


def _contiguous(out):
    if isinstance(out, (tuple, list)):
        return tuple(t.contiguous() for t in out)
    return out.contiguous()


def _dtype_names(dtypes) -> str:
    return ", ".join(str(d).replace("torch.", "") for d in dtypes)


@dataclass(frozen=True, eq=False)
class Op:
    """One op's declaration; creating it registers `hubkit::<name>` and its backward.

    Args:
        name: op name; the torch ops are `hubkit::<name>` and `hubkit::<name>_backward`.
        args: the forward's inputs in torch schema syntax, without the backend.
        outputs: names of the forward's outputs (all tensors), in order.
        backends: which backends implement the op, per device.
        dtypes: backend -> dtypes it computes in, checked on the first tensor input.
        forward: backend -> kernel(*inputs) -> output or tuple of outputs.
        backward: backend -> kernel(*grads, *inputs, *outputs?) -> gradient(s).
        fake: fake(*inputs) -> outputs with the right shapes, dtypes and devices.
        differentiable: inputs that get a gradient (the rest get None).
        grad_outputs: outputs whose gradient the backward takes (default: all);
            the others are marked non-differentiable.
        save_outputs: pass the forward's outputs to the backward kernels.
        strided: tensor inputs handed to kernels as given, not made contiguous.
        check: optional check(backend, *inputs) run after the backend is chosen,
            for limits a backend has beyond dtype (raise ValueError naming the argument).
    """

    name: str
    args: str
    outputs: tuple[str, ...]
    backends: OpBackends
    dtypes: Mapping[str, tuple[torch.dtype, ...]]
    forward: Mapping[str, Kernel]
    backward: Mapping[str, Kernel]
    fake: Kernel
    differentiable: tuple[str, ...]
    grad_outputs: tuple[str, ...] | None = None
    save_outputs: bool = False
    strided: tuple[str, ...] = ()
    check: Kernel | None = None
    inputs: tuple[_Arg, ...] = field(init=False, repr=False)
    first_tensor: int = field(init=False, repr=False)  # whose dtype is checked

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", _parse_args(self.args))
        object.__setattr__(self, "first_tensor", [a.is_tensor for a in self.inputs].index(True))
        if self.grad_outputs is None:
            object.__setattr__(self, "grad_outputs", self.outputs)
        self._register()

    # -- what the public function calls ------------------------------------------------

    def __call__(self, *inputs, device: torch.device, backend: str | None):
        """Resolve the backend, check the inputs against it, run `hubkit::<name>`.

        The public function checks shapes and devices first; `device` is the inputs'.
        """
        chosen = resolve(self.backends, device, backend)
        self.check_inputs(chosen, inputs)
        # subtle: looked up on every call, so a test may spy on torch.ops.hubkit.<name>.
        return getattr(torch.ops.hubkit, self.name)(*inputs, chosen)

    def check_inputs(self, backend: str, inputs: Sequence) -> None:
        """ValueError naming the argument if backend `backend` cannot take these inputs."""
        i = self.first_tensor
        arg, t = self.inputs[i], inputs[i]
        allowed = self.dtypes[backend]
        if t.dtype not in allowed:
            raise ValueError(f"{arg.name}: dtype {str(t.dtype).replace('torch.', '')} is not "
                             f"supported by the {backend!r} backend of hubkit.ops.{self.name} "
                             f"(it takes {_dtype_names(allowed)}); cast the inputs or pick "
                             f"another backend")
        if self.check is not None:
            self.check(backend, *inputs)

    # -- registration --------------------------------------------------------------------

    def _schemas(self) -> tuple[str, str]:
        outs = [f"Tensor {o}" for o in self.outputs]
        fwd_ret = "Tensor" if len(outs) == 1 else f"({', '.join(['Tensor'] * len(outs))})"
        grads = [f"Tensor grad_{o}" for o in self.grad_outputs]
        saved = outs if self.save_outputs else []
        bwd_args = ", ".join([*grads, self.args, *saved, "str backend"])
        n = len(self.differentiable)
        bwd_ret = "Tensor" if n == 1 else f"({', '.join(['Tensor'] * n)})"
        return f"({self.args}, str backend) -> {fwd_ret}", f"({bwd_args}) -> {bwd_ret}"

    def _kernel_inputs(self, inputs: Sequence) -> list:
        return [v.contiguous() if a.is_tensor and v is not None and a.name not in self.strided
                else v for a, v in zip(self.inputs, inputs, strict=True)]

    def _register(self) -> None:
        fwd_schema, bwd_schema = self._schemas()
        fwd = torch.library.custom_op(f"hubkit::{self.name}", self._run_forward,
                                      mutates_args=(), schema=fwd_schema)
        fwd.register_fake(lambda *a: self.fake(*a[:-1]))
        bwd = torch.library.custom_op(f"hubkit::{self.name}_backward", self._run_backward,
                                      mutates_args=(), schema=bwd_schema)
        bwd.register_fake(self._fake_backward)
        fwd.register_autograd(self._autograd_backward, setup_context=self._setup_context)

    def _run_forward(self, *args):
        *inputs, backend = args
        self.check_inputs(backend, inputs)
        return _contiguous(self.forward[backend](*self._kernel_inputs(inputs)))

    def _split_backward_args(self, args: Sequence):
        """(*grads, *inputs, *outputs?, backend) -> (grads, inputs, outputs, backend)."""
        ng, ni = len(self.grad_outputs), len(self.inputs)
        return args[:ng], args[ng:ng + ni], args[ng + ni:-1], args[-1]

    def _grad_slots(self, inputs: Sequence):
        """(input name, input) for each differentiable input, in declaration order."""
        by_name = {a.name: v for a, v in zip(self.inputs, inputs, strict=True)}
        return [(n, by_name[n]) for n in self.differentiable]

    def _run_backward(self, *args):
        grads, inputs, outputs, backend = self._split_backward_args(args)
        self.check_inputs(backend, inputs)
        kin = self._kernel_inputs(inputs)
        result = self.backward[backend](*(g.contiguous() for g in grads), *kin,
                                        *(o.contiguous() for o in outputs))
        result = result if isinstance(result, (tuple, list)) else (result,)
        # subtle: an input that was None (an absent bias) gets an empty placeholder, so the
        # op always returns one tensor per differentiable input; autograd maps it to None.
        out = tuple(g.contiguous() if v is not None else grads[0].new_empty(0)
                    for g, (_, v) in zip(result, self._grad_slots(inputs), strict=True))
        return out if len(out) > 1 else out[0]

    def _fake_backward(self, *args):
        grads, inputs, _, _ = self._split_backward_args(args)
        out = tuple(torch.empty_like(v, memory_format=torch.contiguous_format)
                    if v is not None else grads[0].new_empty(0)
                    for _, v in self._grad_slots(inputs))
        return out if len(out) > 1 else out[0]

    def _setup_context(self, ctx, inputs, output) -> None:
        *inputs, backend = inputs
        outputs = tuple(output) if len(self.outputs) > 1 else (output,)
        tensors = [v for a, v in zip(self.inputs, inputs, strict=True) if a.is_tensor]
        ctx.save_for_backward(*tensors, *(outputs if self.save_outputs else ()))
        ctx.others = [None if a.is_tensor else v
                      for a, v in zip(self.inputs, inputs, strict=True)]
        ctx.backend = backend
        frozen = [o for n, o in zip(self.outputs, outputs, strict=True)
                  if n not in self.grad_outputs]
        if frozen:
            ctx.mark_non_differentiable(*frozen)

    def _autograd_backward(self, ctx, *grads):
        saved = iter(ctx.saved_tensors)
        inputs = [next(saved) if a.is_tensor else v
                  for a, v in zip(self.inputs, ctx.others, strict=True)]
        outputs = list(saved)
        wanted = [g for n, g in zip(self.outputs, grads, strict=True) if n in self.grad_outputs]
        result = getattr(torch.ops.hubkit, f"{self.name}_backward")(
            *wanted, *inputs, *outputs, ctx.backend)
        result = result if isinstance(result, (tuple, list)) else (result,)
        by_name = {n: g for n, g in zip(self.differentiable, result, strict=True)}
        return (*(by_name.get(a.name) if v is not None else None
                  for a, v in zip(self.inputs, inputs, strict=True)), None)
