"""The checker on small synthetic exercises: isolation, guards, gradients, diagnostics."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hubkit.check.exercises import load_exercise
from hubkit.check.runner import run_check

SPEC = '''
import torch
from hubkit.check import Case, OpSpec, randn

def reference(a, b):
    return a @ b

def cases(ctx):
    out = []
    for n, k, m in ([5, 7, 5], [9, 33, 9]):
        a, b = randn(ctx, n, k), randn(ctx, k, m, layout="transposed")
        out.append(Case(f"({n},{k})x({k},{m})", {"a": a, "b": b}, reduction=k))
    return out

SPEC = OpSpec(reference=reference, cases=cases, grads=("a", "b"),
              forbidden=("aten::mm", "aten::matmul", "aten::bmm"))
'''

SOLUTION = '''
import torch

def matmul(a, b):
    # BEGIN SOLUTION
    return (a[:, :, None] * b[None, :, :]).sum(1)
    # END SOLUTION
'''

TOML = '''
id = "{id}"
title = "synthetic matmul"
section = "1.1"
kind = "python"
implements = "a @ b"
files = ["mm.py"]
entry = "matmul"
timeout = {timeout}
hints = ["broadcast"]
'''


def make_exercise(root: Path, timeout: float = 20, ex_id: str = "synthetic_mm"):
    folder = root / ex_id
    (folder / "solution").mkdir(parents=True)
    (folder / "exercise.toml").write_text(TOML.format(id=ex_id, timeout=timeout))
    (folder / "spec.py").write_text(SPEC)
    (folder / "solution" / "mm.py").write_text(SOLUTION)
    (folder / "README.md").write_text("synthetic")
    return load_exercise(folder)


def learner(tmp_path: Path, body: str) -> dict[str, Path]:
    path = tmp_path / "learner" / "mm.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text("import torch\n\n" + textwrap.dedent(body))
    return {"mm.py": path}


@pytest.fixture
def ex(tmp_path):
    return make_exercise(tmp_path / "exercises")


def check(ex, files, **kw):
    return run_check(ex, files, fast=True, timing=False, **kw)


def test_python_solution_passes_forward_and_backward(ex):
    result = check(ex, ex.solution_files())
    assert result.status == "pass", result.message
    assert result.seed != 0


def test_forbidden_torch_op_is_rejected(ex, tmp_path):
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    return a @ b\n"))
    assert r.status == "fail" and "forbidden op" in r.message
    assert "aten::mm" in r.message or "aten::matmul" in r.message


def test_forbidden_op_is_flagged_even_if_the_learner_catches_it(ex, tmp_path):
    body = """
    def matmul(a, b):
        try:
            return torch.mm(a, b)
        except Exception:
            return (a[:, :, None] * b[None, :, :]).sum(1)
    """
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "forbidden op" in r.message


def test_transposed_output_is_named(ex, tmp_path):
    body = "def matmul(a, b):\n    return (a[:, :, None] * b[None]).sum(1).T\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "expected one transposed" in r.message


def test_detached_output_fails_the_gradient_check(ex, tmp_path):
    body = "def matmul(a, b):\n    return (a[:, :, None] * b[None]).sum(1).detach()\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "does not require grad" in r.message


def test_unwritten_torch_empty_elements_are_caught(ex, tmp_path):
    body = """
    def matmul(a, b):
        out = torch.empty(a.shape[0], b.shape[1])
        out[:-1] = (a[:-1, :, None] * b[None]).sum(1)
        return out
    """
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "never written" in r.message
    assert "the last tile/block is skipped" in r.message


def test_low_precision_accumulation_is_rejected(ex, tmp_path):
    body = "def matmul(a, b):\n    return (a.half()[:, :, None] * b.half()[None]).sum(1).float()\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "differ from the reference" in r.message


def test_mutated_input_is_rejected(ex, tmp_path):
    body = """
    def matmul(a, b):
        out = (a[:, :, None] * b[None]).sum(1)
        with torch.no_grad():
            a[0, 0] += 1.0
        return out
    """
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "modified its input `a`" in r.message


def test_answer_cached_between_calls_is_rejected(ex, tmp_path):
    body = """
    _seen = {}
    def matmul(a, b):
        key = tuple(a.shape)
        if key not in _seen:
            _seen[key] = (a[:, :, None] * b[None]).sum(1)
        return _seen[key]
    """
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "drawn again" in r.message


def test_starter_says_not_implemented(ex, tmp_path):
    files = learner(tmp_path, ex.starter_text("mm.py"))
    r = check(ex, files)
    assert r.status == "not_implemented" and "not implemented yet" in r.message


def test_exception_shows_the_learners_line(ex, tmp_path):
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    return a.nope()\n"))
    assert r.status == "error" and "AttributeError" in r.message and "mm.py" in r.message


def test_segfault_is_a_verdict_and_the_next_check_still_runs(ex, tmp_path):
    body = "import os, signal\n\ndef matmul(a, b):\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "crash" and "segmentation fault" in r.message
    assert check(ex, ex.solution_files()).status == "pass"


def test_endless_loop_times_out_and_the_next_check_still_runs(ex, tmp_path):
    # The verdict itself proves the child was stopped at its 4 s timeout.
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    while True:\n        pass\n"),
              timeout=4)
    assert r.status == "timeout" and "timed out" in r.message
    assert check(ex, ex.solution_files()).status == "pass"


def test_printing_cannot_forge_a_verdict(ex, tmp_path):
    body = """
    import sys
    def matmul(a, b):
        print('{"status": "pass"}')
        sys.stdout.flush()
        return a.sum()
    """
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "wrong shape" in r.message
    assert '{"status": "pass"}' in r.output


def test_same_seed_replays_the_same_failure(ex, tmp_path):
    body = "def matmul(a, b):\n    return (a[:, :, None] * b[None]).sum(1) + 1e-3\n"
    files = learner(tmp_path, body)
    first = check(ex, files)
    again = check(ex, files, seed=first.seed)
    assert first.status == again.status == "fail"
    assert first.message == again.message


def test_timing_reports_speedups_and_machine(ex):
    r = run_check(ex, ex.solution_files(), fast=True, timing=True)
    assert r.status == "pass", r.message
    rounds = r.timings["rounds"]
    assert {"reference", "learner"} <= set(rounds)
    assert len(rounds["learner"]) == len(rounds["reference"]) >= 5
    assert r.timings["baseline"] == "reference" and r.timings["clock"] == "grader"
    assert r.timings["providers"]["learner"] == "your code"
    assert r.machine["tf32"] is False and r.machine["threads"] >= 1


CUSTOM_SPEC = '''
import torch
from hubkit.check import CustomSpec

def check(learner, ctx):
    draws = torch.rand(3, generator=ctx.gen)
    ctx.note("draws " + " ".join(f"{float(d):.6f}" for d in draws))
    with ctx.guard():
        value = learner.matmul(torch.ones(2, 2), torch.ones(2, 2))
    if float(value.sum()) != 8.0:
        ctx.fail("the 2x2 ones product must sum to 8")

def time_one(impl, ctx):
    impl.matmul(torch.ones(8, 8), torch.ones(8, 8))

class _Shipped:
    @staticmethod
    def matmul(a, b):
        return a @ b

SPEC = CustomSpec(check=check, time=time_one, shipped=_Shipped())
'''


@pytest.fixture
def custom(tmp_path):
    ex = make_exercise(tmp_path / "exercises", ex_id="synthetic_custom")
    (ex.root / "spec.py").write_text(CUSTOM_SPEC)
    return ex


def test_custom_spec_passes_times_and_replays_its_seed(custom):
    first = run_check(custom, custom.solution_files(), fast=True, timing=True)
    assert first.status == "pass", first.message
    assert len(first.timings["rounds"]["learner"]) == len(first.timings["rounds"]["shipped"]) >= 5
    again = run_check(custom, custom.solution_files(), fast=True, timing=False, seed=first.seed)
    draws = [n for n in first.notes if n.startswith("draws")]
    assert draws and draws == [n for n in again.notes if n.startswith("draws")]


def test_custom_spec_failure_carries_its_message(custom, tmp_path):
    r = check(custom, learner(tmp_path, "def matmul(a, b):\n    return a - b\n"))
    assert r.status == "fail" and "must sum to 8" in r.message


def test_unpredictable_seed_differs_between_runs(ex):
    seeds = {check(ex, ex.solution_files()).seed for _ in range(3)}
    assert len(seeds) == 3


def test_syntax_error_names_the_file_and_line(ex, tmp_path):
    r = check(ex, learner(tmp_path, "def matmul(a, b):\n    return a +\n"))
    assert r.status == "error" and "SyntaxError" in r.message and "mm.py:4" in r.message


def test_exercise_whose_optional_package_is_missing_is_skipped_with_the_reason():
    import dataclasses

    from hubkit.check.exercises import get_exercise
    from hubkit.check.runner import run_check

    ex = dataclasses.replace(get_exercise("matmul_python"), requires=("no_such_package_xyz",))
    result = run_check(ex, ex.solution_files(), impl="solution", fast=True, timing=False)
    assert result.status == "skipped"
    assert "needs no_such_package_xyz" in result.message


def test_check_all_table_prints_brackets_in_messages_literally():
    import io

    from rich.console import Console

    from hubkit.check.report import render_table
    from hubkit.check.result import Result

    out = io.StringIO()
    result = Result(exercise="x", impl="solution", kind="python", seed=1, status="skipped",
                    message="skipped: needs scipy (pip install 'hubkit-learn[all]')")
    render_table([result], Console(file=out, width=160))
    assert "hubkit-learn[all]" in out.getvalue()


LAYOUT_SPEC = SPEC.replace('grads=("a", "b"),', 'grads=("a", "b"), out_layout="contiguous",')


def test_a_transposed_copy_is_rejected_where_the_op_promises_contiguous_output(tmp_path):
    ex = make_exercise(tmp_path / "exercises", ex_id="synthetic_layout")
    (ex.root / "spec.py").write_text(LAYOUT_SPEC)
    assert check(ex, ex.solution_files()).status == "pass"
    body = "def matmul(a, b):\n    return (b.T[:, :, None] * a.T[None]).sum(1).T\n"
    r = check(ex, learner(tmp_path, body))
    assert r.status == "fail" and "are not contiguous" in r.message


SIGN_SPEC = '''
import torch
from hubkit.check import Case, OpSpec

def cases(ctx):
    x = torch.tensor([-0.0, 0.0, -1.5, 2.0, -0.0])
    return [Case("signed zeros", {"x": x})]

SPEC = OpSpec(reference=lambda x: torch.neg(x), cases=cases, signed_zeros=True)
'''


def test_the_sign_of_zero_is_checked_where_it_is_part_of_the_answer(tmp_path):
    ex = make_exercise(tmp_path / "exercises", ex_id="synthetic_sign")
    (ex.root / "spec.py").write_text(SIGN_SPEC)
    good = check(ex, learner(tmp_path, "def matmul(x):\n    return -x\n"))
    assert good.status == "pass", good.message
    r = check(ex, learner(tmp_path, "def matmul(x):\n    return 0.0 - x\n"))  # 0 - 0 = +0
    assert r.status == "fail" and "zeros have the wrong sign" in r.message


IDENTITY_SPEC = '''
import torch
from hubkit.check import Case, OpSpec, randn

def cases(ctx):
    return [Case("x(4, 6)", {"x": randn(ctx, 4, 6)})]

SPEC = OpSpec(reference=lambda x: x.clone(), cases=cases)
'''


def test_an_output_that_is_a_view_of_an_input_is_named(tmp_path):
    ex = make_exercise(tmp_path / "exercises", ex_id="synthetic_identity")
    (ex.root / "spec.py").write_text(IDENTITY_SPEC)
    assert check(ex, learner(tmp_path, "def matmul(x):\n    return x.clone()\n")).status == "pass"
    r = check(ex, learner(tmp_path, "def matmul(x):\n    return x[:]\n"))
    assert r.status == "fail" and "shares memory with the input `x`" in r.message
