"""Grading an `OpSpec` exercise: forward and backward against the float64 reference.

Runs in the grader. For every case (inputs drawn from the run's seed): the
reference runs here on float64 copies; the learner's code runs in its own
process (`hubkit.check.rpc.Session.op`: the inputs go over as data, under
`LearnerGuard` there) and its outputs come back as data; then, in this order:
inputs unchanged, output not a view of an input, type/shape/dtype/device,
NaN/Inf, values, and gradients of every input named in `grads` under a random
upstream gradient. After the cases, the first case is drawn again with new
values and re-checked, so an answer cached from a previous call cannot pass.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import torch

from hubkit.check.compare import assert_close, rms
from hubkit.check.spec import Case, CheckContext, CheckFailure, OpSpec

_OPS = count()


def learner_function(session) -> Callable[..., Any]:
    """The callable that runs the learner's code (in its process) on a case's inputs."""
    return lambda *args: session.op(list(args))


def check_op(spec: OpSpec, session, ctx: CheckContext) -> list[str]:
    """Raise CheckFailure unless the learner's op matches the reference; return notes."""
    fn = learner_function(session)
    cases = spec.cases(ctx)
    for case in cases:
        run_case(spec, fn, case, ctx.gen, session)
    if spec.opcheck:
        run_opcheck(spec, fn, cases[0], ctx)
    again = spec.cases(ctx)[0]  # same shapes, new values: a cached answer fails here
    again.name += " (drawn again)"
    run_case(spec, fn, again, ctx.gen, session)
    return [f"{len(cases) + 1} cases passed (seed {ctx.seed})"]


def reference64(spec: OpSpec, case: Case, grads: bool = False) -> tuple[list, Any]:
    """Float64 copies of the inputs (leaves requiring grad where asked) and the reference output."""
    args = []
    for name, v in case.inputs.items():
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            v = v.detach().double().requires_grad_(grads and name in spec.grads)
        args.append(v)
    return args, spec.reference(*args)


def out_dtype(spec: OpSpec, case: Case) -> torch.dtype:
    if spec.out_dtype is not None:
        return spec.out_dtype
    for v in case.inputs.values():
        if isinstance(v, torch.Tensor) and v.is_floating_point():
            return v.dtype
    return torch.float64


def run_case(spec: OpSpec, fn: Callable[..., Any], case: Case,
             gen: torch.Generator | None = None, session=None) -> None:
    """Check one case; CheckFailure messages start with the case name.

    `gen` draws the random upstream gradient (so a seed replays it too);
    `session` runs the backward in the learner's process.
    """
    try:
        _run_case(spec, fn, case, gen, session)
    except CheckFailure as err:
        raise CheckFailure(f"case {case.name}: {err}") from None


def _run_case(spec: OpSpec, fn: Callable[..., Any], case: Case,
              gen: torch.Generator | None, session) -> None:
    ref_args, want = reference64(spec, case, grads=bool(spec.grads))
    args = [v.detach().requires_grad_(n in spec.grads) if isinstance(v, torch.Tensor) else v
            for n, v in case.inputs.items()]
    before = [v.detach().clone() if isinstance(v, torch.Tensor) else v for v in args]
    got = fn(*args)
    _inputs_unchanged(case, args, before)
    _not_a_view(case, getattr(session, "last_info", {}))
    _compare_outputs(spec, case, got, want)
    if spec.grads:
        _check_grads(spec, case, args, ref_args, got, want, gen, session)


def _not_a_view(case: Case, info: dict) -> None:
    names = list(case.inputs)
    for i in info.get("aliases", ()):
        if isinstance(i, int) and 0 <= i < len(names):
            raise CheckFailure(f"your output shares memory with the input `{names[i]}` (a "
                               "view of it, or the input itself): return a new tensor")


def _inputs_unchanged(case: Case, args: list, before: list) -> None:
    for name, now, then in zip(case.inputs, args, before, strict=True):
        if isinstance(now, torch.Tensor) and not torch.equal(now.detach(), then):
            changed = int((now.detach() != then).sum())
            raise CheckFailure(f"your code modified its input `{name}` ({changed} elements "
                               "changed): inputs must come back unmodified")


def _as_tuple(out: Any) -> tuple:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _compare_outputs(spec: OpSpec, case: Case, got: Any, want: Any) -> None:
    gots, wants = _as_tuple(got), _as_tuple(want)
    if len(gots) != len(wants):
        raise CheckFailure(f"expected {len(wants)} outputs, got {len(gots)}")
    dtype = out_dtype(spec, case)
    floor = max(rms(w) for w in wants if isinstance(w, torch.Tensor))
    for i, (g, w) in enumerate(zip(gots, wants, strict=True)):
        name = "output" if len(wants) == 1 else f"output {i}"
        _layout(spec, g, name)
        assert_close(g, w.detach(), name=name, dtype=dtype if w.is_floating_point() else w.dtype,
                     reduction=case.reduction, rtol=spec.rtol, sentinel=True,
                     scale_floor=floor, condition=case.condition)
        _signed_zeros(spec, g, w.detach(), name)


def _layout(spec: OpSpec, g: Any, name: str) -> None:
    """Strides the op promises (checked before values: a transposed copy has right values)."""
    if spec.out_layout is None or not isinstance(g, torch.Tensor):
        return
    fmt = {"contiguous": torch.contiguous_format, "channels_last": torch.channels_last}
    if not g.is_contiguous(memory_format=fmt[spec.out_layout]):
        raise CheckFailure(f"{name}: strides {tuple(g.stride())} for shape {tuple(g.shape)} "
                           f"are not {spec.out_layout.replace('_', ' ')}: this op promises a "
                           f"{spec.out_layout.replace('_', ' ')} output (allocate it that way, "
                           "or return .contiguous())")


def _signed_zeros(spec: OpSpec, g: Any, w: Any, name: str) -> None:
    if not spec.signed_zeros or not isinstance(g, torch.Tensor) or not w.is_floating_point():
        return
    zero = (w == 0) & (g == 0)
    wrong = zero & (torch.signbit(g.to(w.dtype)) != torch.signbit(w))
    if bool(wrong.any()):
        idx = tuple(int(i) for i in wrong.nonzero()[0])
        raise CheckFailure(f"{name}: {int(wrong.sum())} zeros have the wrong sign, first at "
                           f"{idx}: got {g[idx].item()!r}, expected {w[idx].item()!r} (the sign "
                           "of zero is part of this op's answer)")


def _check_grads(spec: OpSpec, case: Case, args: list, ref_args: list, got: Any,
                 want: Any, gen: torch.Generator | None, session) -> None:
    got0, want0 = _as_tuple(got)[0], _as_tuple(want)[0]
    if not got0.requires_grad:
        raise CheckFailure("your output does not require grad: it is not connected to the "
                           "inputs in the autograd graph (.detach(), .item() or NumPy?)")
    upstream = torch.randn(want0.shape, dtype=torch.float64, generator=gen).to(want0.device)
    want0.backward(upstream)
    grads = session.backward(upstream)  # runs in the learner's process, under its guard
    for a, g in zip(args, grads, strict=False):
        if isinstance(a, torch.Tensor) and isinstance(g, torch.Tensor):
            a.grad = g.to(a.device)
    floor = max((rms(r.grad) for name, r in zip(case.inputs, ref_args, strict=True)
                 if name in spec.grads and r.grad is not None), default=0.0)
    for name, a, r in zip(case.inputs, args, ref_args, strict=True):
        if name not in spec.grads:
            continue
        if a.grad is None:
            raise CheckFailure(f"grad of `{name}` is None: no gradient flows back to `{name}`")
        assert_close(a.grad, r.grad, name=f"grad of `{name}`", dtype=a.dtype,
                     reduction=case.reduction, rtol=spec.rtol, scale_floor=floor,
                     condition=case.condition)


def _schema_type(v: Any) -> str:
    if isinstance(v, torch.Tensor):
        return "Tensor"
    return {bool: "bool", int: "SymInt", float: "float"}[type(v)]


def run_opcheck(spec: OpSpec, fn: Callable[..., Any], case: Case, ctx: CheckContext) -> None:
    """Wrap the learner's code as a torch custom op and run torch.library.opcheck on it."""
    schema = "(" + ", ".join(f"{_schema_type(v)} {n}" for n, v in case.inputs.items())
    schema += ") -> Tensor"
    # subtle: the grader outlives one check; each registration needs a fresh name.
    op = torch.library.custom_op(f"hubkit_learner::{ctx.exercise or 'op'}_{next(_OPS)}",
                                 lambda *a: fn(*a), mutates_args=(), schema=schema)
    op.register_fake(lambda *a: spec.reference(*a).to(out_dtype(spec, case)))
    args = [v.detach() if isinstance(v, torch.Tensor) else v for v in case.inputs.values()]
    utils = ("test_schema", "test_faketensor") if ctx.fast else (
        "test_schema", "test_autograd_registration", "test_faketensor")
    try:
        torch.library.opcheck(op, tuple(args), test_utils=utils)
    except Exception as err:  # noqa: BLE001 - opcheck raises OpCheckError and others
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckFailure(f"torch.library.opcheck failed on case {case.name}: {first}") from None
