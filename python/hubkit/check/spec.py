"""What an exercise's `spec.py` declares: its cases, reference, adapter and checks.

Two kinds of spec:

* `OpSpec` for exercises whose answer is a function of tensors with one right
  output (matmul, bias_gelu, conv2d, attention). The checker builds the cases,
  computes the reference in float64, calls the learner's code through `call`,
  and compares (forward, and backward for the inputs named in `grads`).
* `CustomSpec` for exercises whose output is not unique or is not a tensor
  function (samplers, replay buffers, RL rollouts, optimizers stepped over
  time): the spec's own `check(learner, ctx)` raises `CheckFailure` with a
  teaching message, using the helpers here.

An `OpSpec`'s `call` runs in the learner's process with the learner's module
(a Python module loaded from the learner's file, or the compiled pybind11
extension for cpp/cuda exercises); everything else in a spec runs in the
grader. A `CustomSpec`'s `check` receives a stand-in for that module
(`hubkit.check.rpc.Remote`): calls into it cross to the learner's process and
come back as data (see exercises/README.md, "The trust boundary").
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import torch

Scalar = int | float | bool


class CheckFailure(Exception):
    """The learner's answer is wrong; the message says how, in words that teach."""


# The checker's own NaN: a quiet NaN with a payload (the "never written" marker), one bit
# pattern per float dtype. Arithmetic makes the default NaN instead (0/0 and inf - inf give
# 0xFFC00000 in float32), so a NaN with this payload was left by the fill or propagated from
# it, not computed. The payload sits in the top mantissa bits, so float32 <-> float64 and
# float32 -> float16 conversions keep it (torch's bfloat16 rounding does not).
SENTINEL_BITS = {
    torch.float64: (torch.int64, 0x7FFB_4000_0000_0000),
    torch.float32: (torch.int32, 0x7FDA_0000),
    torch.float16: (torch.int16, 0x7ED0),
    torch.bfloat16: (torch.int16, 0x7FDA),
}


def fill_sentinel(t: torch.Tensor) -> torch.Tensor:
    """Fill a floating tensor in place with the checker's NaN (its payload marks "unwritten")."""
    if t.dtype in SENTINEL_BITS and t.is_contiguous():
        as_int, bits = SENTINEL_BITS[t.dtype]
        t.view(as_int).fill_(bits)
        return t
    return t.fill_(float("nan"))


def is_sentinel(t: torch.Tensor) -> torch.Tensor:
    """Boolean mask (t's shape): elements holding exactly the checker's NaN bit pattern."""
    if t.dtype not in SENTINEL_BITS:
        return torch.zeros(t.shape, dtype=torch.bool, device=t.device)
    as_int, bits = SENTINEL_BITS[t.dtype]
    # subtle: .view(int) needs a unit last stride; a strided output is copied first.
    return t.detach().contiguous().view(as_int) == bits


@dataclass
class Case:
    """One set of inputs for an `OpSpec`.

    Args:
        name: shown in diagnostics, e.g. "x(7, 129) non-contiguous".
        inputs: argument name -> tensor or Python scalar, in call order.
        reduction: how many terms each output element sums over (K for a
            matmul, 1 for an elementwise op); widens the tolerance by sqrt(K).
        condition: how much this case amplifies input rounding (e.g. the largest
            |logit| fed to a softmax); multiplies the tolerance. 1 for ordinary
            inputs; raise it only for a deliberately extreme case.
    """

    name: str
    inputs: dict[str, torch.Tensor | Scalar]
    reduction: int = 1
    condition: float = 1.0


@dataclass
class CheckContext:
    """What the checker hands to `OpSpec.call` and `CustomSpec.check`.

    Attributes:
        gen: a torch.Generator seeded from the run's seed (replay with --seed).
        device: where the case tensors live ("cpu", or "cuda" for cuda/triton
            exercises on a GPU machine).
        fast: True in the test-suite mode: fewer, smaller cases and no timing.
        seed: the seed of this run.
    """

    gen: torch.Generator
    device: torch.device
    fast: bool = False
    seed: int = 0
    forbidden: tuple[str, ...] = ()
    exercise: str = ""
    notes: list[str] = field(default_factory=list)
    in_grader: bool = False

    def empty(self, *shape: int, dtype: torch.dtype = torch.float32,
              device: torch.device | str | None = None) -> torch.Tensor:
        """An output buffer pre-filled with NaN, so elements never written show up."""
        t = torch.empty(shape, dtype=dtype, device=device or self.device)
        return fill_sentinel(t) if t.is_floating_point() else t.fill_(-7)

    def empty_like(self, t: torch.Tensor) -> torch.Tensor:
        """Like `torch.empty_like(t, memory_format=contiguous)`, but NaN-filled."""
        return self.empty(*t.shape, dtype=t.dtype, device=t.device)

    def guard(self) -> contextlib.AbstractContextManager:
        """Run learner code inside this: flags forbidden torch ops, NaN-fills torch.empty.

        In the grader this marks the calls only: every call into the learner's
        process already runs under `LearnerGuard` there.
        """
        if self.in_grader:
            return contextlib.nullcontext()
        from hubkit.check.guards import LearnerGuard

        return LearnerGuard(self.forbidden)

    def batch(self, calls: list[tuple[Callable[..., Any], tuple]]) -> list[Any]:
        """Results of `fn(*args)` for each (fn, args) in order, as one round trip when the
        functions are the learner's (thousands of small calls cost one message, not many).

        Example:
            >>> ctx = CheckContext(gen=torch.Generator(), device=torch.device("cpu"))
            >>> ctx.batch([(abs, (-2,)), (max, (1, 3))])
            [2, 3]
        """
        from hubkit.check.remote import Method

        if calls and all(isinstance(fn, Method) for fn, _ in calls):
            sessions = {id(fn.owner._session) for fn, _ in calls}
            if len(sessions) == 1:
                return calls[0][0].owner._session.batch(calls)
        return [fn(*args) for fn, args in calls]

    def fail(self, message: str) -> None:
        """Raise CheckFailure(message)."""
        raise CheckFailure(message)

    def note(self, message: str) -> None:
        """Record a line for the report (e.g. a statistic that passed)."""
        self.notes.append(message)


@dataclass
class OpSpec:
    """An exercise whose answer is a function of tensors.

    Args:
        reference: the spec, called with float64 copies of the case's inputs
            (scalars unchanged); returns a tensor or a tuple of tensors.
        cases: `cases(ctx) -> list[Case]`; use `ctx.gen` for every random number,
            `ctx.fast` to return fewer/smaller cases, `ctx.device` for tensors.
        call: `call(learner, ctx, *inputs) -> output`: how to run the learner's
            code (allocate outputs with `ctx.empty_like`, pass `data_ptr()`s for
            cpp/cuda). None calls `getattr(learner, entry)(*inputs)`.
        shipped: hubkit's own optimized version, `shipped(*inputs)`, timed
            beside the learner's (None: not timed).
        grads: names of inputs whose gradients are checked (the learner's output
            must then support autograd); a random upstream gradient is used.
        forbidden: aten ops the learner may not call, e.g. ("aten::gelu",).
        out_dtype: dtype the output must have; None means the first floating
            input's dtype.
        rtol: relative tolerance per dtype, before the sqrt(reduction) widening;
            None uses `hubkit.check.compare.DEFAULT_RTOL`.
        opcheck: wrap the learner's code as a torch custom op and run
            `torch.library.opcheck` on the first case.
        bench: `bench(ctx) -> Case`, a larger case to time; None times the
            last case from `cases`.
        out_layout: the memory format the op promises for its outputs,
            "contiguous" or "channels_last" (None: any strides).
        signed_zeros: outputs must match the reference's sign of zero (-0.0 vs
            0.0), for ops where it is part of the answer (copysign, neg, relu of -0.0).
        names: what the timed "reference" and "shipped" providers are, in the words
            a speed report uses ("hubkit's C++ conv2d (packed GEMM)"); a provider
            missing here is named after its function.
    """

    reference: Callable[..., Any]
    cases: Callable[[CheckContext], list[Case]]
    call: Callable[..., Any] | None = None
    shipped: Callable[..., Any] | None = None
    grads: Sequence[str] = ()
    forbidden: Sequence[str] = ()
    out_dtype: torch.dtype | None = None
    rtol: dict[torch.dtype, float] | None = None
    opcheck: bool = False
    bench: Callable[[CheckContext], Case] | None = None
    out_layout: str | None = None
    signed_zeros: bool = False
    names: dict[str, str] | None = None


@dataclass
class CustomSpec:
    """An exercise graded by its own checks (statistics, invariants, a trusted simulator).

    Args:
        check: `check(learner, ctx) -> None`; raise `CheckFailure` (or call
            `ctx.fail`) with a message that teaches. Wrap calls into learner
            code in `with ctx.guard():` to enforce `forbidden`.
        forbidden: aten ops the learner may not call inside `ctx.guard()`.
        time: optional `time(impl, ctx) -> None` that runs one timed unit of
            work with `impl` (the learner's module or `shipped`); the checker
            times it interleaved with `shipped` when both are given.
        shipped: hubkit's own implementation, passed to `time` (a module or object).
    """

    check: Callable[[ModuleType, CheckContext], None]
    forbidden: Sequence[str] = ()
    time: Callable[[Any, CheckContext], None] | None = None
    shipped: Any = None


def randn(ctx: CheckContext, *shape: int, dtype: torch.dtype = torch.float32,
          layout: str = "contiguous", shift: bool = True) -> torch.Tensor:
    """Normal values with a random scale and offset, in a chosen memory layout.

    Args:
        ctx: supplies the generator and device.
        shape: the logical shape.
        dtype: the tensor's dtype.
        layout: "contiguous"; "strided" (every other element of a wider
            buffer along the last dim) or "transposed" (last two dims stored
            swapped); both are non-contiguous views with the same values.
        shift: apply a random offset in [-1, 1] and scale in [0.5, 2].

    Returns:
        tensor of `shape`.
    """
    scale, offset = (0.5 + 1.5 * torch.rand((), generator=ctx.gen).item(),
                     2 * torch.rand((), generator=ctx.gen).item() - 1) if shift else (1.0, 0.0)
    if layout == "strided":
        wide = torch.randn(*shape[:-1], 2 * shape[-1], generator=ctx.gen, dtype=torch.float64)
        base = wide[..., ::2]
    elif layout == "transposed" and len(shape) >= 2:
        swapped = (*shape[:-2], shape[-1], shape[-2])
        base = torch.randn(swapped, generator=ctx.gen, dtype=torch.float64).transpose(-1, -2)
    elif layout in ("contiguous", "transposed"):
        base = torch.randn(shape, generator=ctx.gen, dtype=torch.float64)
    else:
        raise ValueError(f"layout: expected contiguous, strided or transposed, got {layout!r}")
    # subtle: scale/shift in float64, then one cast, so the view keeps its strides.
    out = torch.empty_strided(base.shape, base.stride(), dtype=dtype, device=ctx.device)
    return out.copy_(base * scale + offset) if base.numel() else out


@contextlib.contextmanager
def expect_close(what: str) -> Iterator[None]:
    """Prefix any CheckFailure raised inside with `what` ("after step 3: ...")."""
    try:
        yield
    except CheckFailure as err:
        raise CheckFailure(f"{what}: {err}") from None
