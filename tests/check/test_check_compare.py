"""Tolerances and teaching diagnostics of hubkit.check.compare."""

from __future__ import annotations

import pytest
import torch

from hubkit.check import CheckFailure, assert_close, make_starter, tolerance


@pytest.fixture
def want(gen) -> torch.Tensor:
    return torch.randn(6, 40, generator=gen, dtype=torch.float64)


def _message(got, want, **kw) -> str:
    with pytest.raises(CheckFailure) as info:
        assert_close(got, want, **kw)
    return str(info.value)


def test_float32_rounding_of_the_reference_passes(want):
    assert_close(want.float(), want, dtype=torch.float32)


def test_all_zeros_fails_and_is_named(want):
    assert "all zeros" in _message(torch.zeros(6, 40), want, dtype=torch.float32)


def test_tolerance_grows_with_reduction_length():
    assert tolerance(torch.float32, 400) == pytest.approx(20 * tolerance(torch.float32, 1))


def test_half_precision_error_fails_a_float32_check(want):
    got = want.half().float()
    assert "differ from the reference" in _message(got, want, dtype=torch.float32)


def test_nan_fails_even_in_a_correct_answer(want):
    got = want.float().clone()
    got[2, 3] = float("nan")
    msg = _message(got, want, dtype=torch.float32)
    assert "NaN or Inf" in msg and "(2, 3)" in msg


def test_shape_and_dtype_come_first(want):
    assert "wrong shape" in _message(want.float()[:, :3], want, dtype=torch.float32)
    assert "wrong dtype" in _message(want, want, dtype=torch.float32)


def test_tail_columns_hint_masking(want):
    got = want.float().clone()
    got[:, 32:] = 0
    assert "a tail your loop or mask does not cover" in _message(got, want, dtype=torch.float32)


def test_upper_triangle_hints_causal_mask(gen):
    want = torch.randn(2, 9, 9, generator=gen, dtype=torch.float64)
    got = want.clone()
    got += torch.triu(torch.ones(9, 9, dtype=torch.float64), diagonal=1)
    assert "above the diagonal" in _message(got, want)


def test_transposed_output_is_named(gen):
    want = torch.randn(7, 7, generator=gen, dtype=torch.float64)
    assert "expected one transposed" in _message(want.T.contiguous(), want)


def test_constant_factor_is_named(want):
    assert "times 2" in _message(want * 2, want)


def test_mismatch_report_lists_first_indices_and_errors(want):
    got = want.clone()
    got[1, 5] += 1.0
    msg = _message(got, want)
    assert "1 of 240 elements differ" in msg and "at (1, 5)" in msg and "max abs error" in msg


def test_starter_replaces_solution_blocks_with_not_implemented():
    solution = "def f(x):\n    # BEGIN SOLUTION\n    return x + 1\n    # END SOLUTION\n"
    starter = make_starter(solution, "python")
    assert "return x + 1" not in starter
    assert '    raise NotImplementedError("not implemented yet")' in starter


def test_starter_lines_replace_the_default_stub():
    solution = ("void f() {\n  // BEGIN SOLUTION\n  // starter> // Step 1\n"
                "  // starter> throw std::runtime_error(\"not implemented yet\");\n"
                "  g();\n  // END SOLUTION\n}\n")
    starter = make_starter(solution, "cpp")
    assert "g();" not in starter and "  // Step 1\n" in starter


def test_integer_outputs_must_match_exactly():
    want = torch.tensor([1, 2, 3])
    assert_close(torch.tensor([1, 2, 3]), want)
    assert "differ from the reference" in _message(torch.tensor([1, 2, 4]), want)


def test_chi_square_accepts_a_fair_sampler_and_rejects_a_biased_one(gen):
    from hubkit.check import chi_square, expect_frequencies

    probs = torch.tensor([0.1, 0.2, 0.3, 0.4])
    fair = torch.bincount(torch.multinomial(probs, 20000, True, generator=gen), minlength=4)
    assert chi_square(fair, probs)[1] > 1e-4
    biased = torch.bincount(torch.multinomial(probs.flip(0), 20000, True, generator=gen),
                            minlength=4)
    with pytest.raises(CheckFailure, match="do not follow the expected probabilities"):
        expect_frequencies(biased, probs, "sampled indices")


def test_rounding_noise_on_an_exactly_zero_output_passes():
    want = torch.zeros(4, 16, dtype=torch.float64)
    assert_close(torch.full((4, 16), 3e-7), want, dtype=torch.float32)
    assert "differ from the reference" in _message(torch.full((4, 16), 1e-3), want,
                                                    dtype=torch.float32)


def test_errors_in_the_last_row_of_every_plane_get_the_last_row_hint():
    want = torch.randn(2, 3, 5, 7, dtype=torch.float64)
    got = want.clone()
    got[:, :, -1, :] += 1.0  # e.g. an out-of-bounds read at the bottom edge of each image
    with pytest.raises(CheckFailure) as err:
        assert_close(got, want, name="output")
    assert "last row" in str(err.value) and "every 5 x 7 plane" in str(err.value)


def test_unwritten_and_computed_nan_are_told_apart(want):
    """The checker's fill NaN carries a payload: an unwritten element is named as such,
    a NaN the learner's arithmetic made (the default NaN) is not called unwritten."""
    from hubkit.check.spec import fill_sentinel, is_sentinel

    unwritten = want.float().clone()
    fill_sentinel(unwritten[1])
    assert bool(is_sentinel(unwritten)[1].all()) and not bool(is_sentinel(unwritten)[0].any())
    msg = _message(unwritten, want, dtype=torch.float32, sentinel=True)
    assert "40 elements never written" in msg and "NaN or Inf" in msg
    computed = want.float().clone()
    computed[1] = torch.zeros(40) / torch.zeros(40)  # 0/0: the default NaN
    msg = _message(computed, want, dtype=torch.float32, sentinel=True)
    assert "never written" not in msg and "computed by your code" in msg


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16, torch.bfloat16])
def test_fill_nan_payload_is_kept_through_float64(dtype):
    from hubkit.check.spec import fill_sentinel, is_sentinel

    t = fill_sentinel(torch.empty(5, dtype=dtype))
    assert bool(t.isnan().all()) and bool(is_sentinel(t).all())
    assert not bool(is_sentinel(torch.full((5,), float("nan"), dtype=dtype)).any())
    if dtype in (torch.float32, torch.float64):  # the grader compares in float64
        assert bool(is_sentinel(t.double().to(dtype)).all())
