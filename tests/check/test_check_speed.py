"""Speed verdicts (hubkit.check.speed) on synthetic per-round timings."""

import os

import numpy as np
import pytest

from hubkit.check import speed

QUIET = {"cores": 8, "loadavg": [0.5, 0.5, 0.5]}


def _rounds(ratio: float, noise: float, n: int = 30, seed: int = 0) -> dict[str, list[float]]:
    """Baseline rounds drifting like a real machine, and subject = ratio x baseline x noise."""
    rng = np.random.default_rng(seed)
    base = 1e-3 * (1 + 0.2 * rng.random(n))
    subj = base * ratio * np.exp(noise * rng.standard_normal(n))
    return {"reference": base.tolist(), "learner": subj.tolist()}


def _timings(rounds, **extra):
    return {"rounds": rounds, "baseline": "reference", "subject": "learner",
            "providers": {"reference": "torch's conv2d"}, **extra}


def test_clearly_slower_is_slower_with_readable_sentence():
    out = speed.summarize(_timings(_rounds(1.6, 0.05)), QUIET)
    assert out["verdict"] == "slower"
    lo, hi = out["ci"]
    assert 1.0 < lo < 1.6 < hi
    assert out["sentence"].startswith("Your code takes 1.6")
    assert "as long as torch's conv2d (95% CI " in out["sentence"]
    assert not out["busy"]


def test_clearly_faster_says_how_many_times_faster():
    out = speed.summarize(_timings(_rounds(1 / 2.3, 0.05)), QUIET)
    assert out["verdict"] == "faster"
    assert out["ci"][1] < 1.0
    assert out["sentence"].startswith("Your code is 2.")
    assert "faster than torch's conv2d" in out["sentence"]


def test_equal_but_noisy_is_indistinguishable_even_when_medians_differ():
    rounds = _rounds(1.0, 0.3, n=12, seed=3)
    med = np.median(rounds["learner"]) / np.median(rounds["reference"])
    assert abs(med - 1) > 0.01  # one pair of medians would call a winner
    out = speed.summarize(_timings(rounds), QUIET)
    assert out["verdict"] == "indistinguishable"
    assert out["ci"][0] < 1.0 < out["ci"][1]
    assert "cannot be told apart" in out["sentence"]


def test_wide_interval_is_flagged_busy_with_a_warning():
    out = speed.summarize(_timings(_rounds(0.3, 1.0, n=8)), QUIET)
    assert out["busy"]
    assert any("too noisy" in w for w in out["warnings"])


def test_high_load_average_is_flagged_busy_and_recorded():
    out = speed.summarize(_timings(_rounds(1.6, 0.01)), {"cores": 2, "loadavg": [7.5, 6, 5]})
    assert out["busy"]
    assert out["load"] == {"loadavg": 7.5, "cores": 2}
    assert any("load average 7.5 on 2 cores" in w for w in out["warnings"])


def test_load_is_read_from_this_machine_when_not_given():
    out = speed.summarize(_timings(_rounds(1.6, 0.01)), None)
    assert out["load"]["cores"] == os.cpu_count() and isinstance(out["load"]["loadavg"], float)


def test_bootstrap_is_deterministic():
    r = speed.paired_ratios(_rounds(1.2, 0.2), "reference", "learner")
    assert speed.ratio_ci(r) == speed.ratio_ci(r)


def test_enough_needs_a_minimum_of_rounds_even_when_identical():
    rounds = {"reference": [1.0] * 4, "learner": [2.0] * 4}
    assert not speed.enough(rounds, "reference", "learner")
    rounds = {"reference": [1.0] * 5, "learner": [2.0] * 5}
    assert speed.enough(rounds, "reference", "learner")


def test_enough_is_false_while_noisy_and_true_when_tight():
    assert not speed.enough(_rounds(1.0, 0.5, n=10), "reference", "learner")
    assert speed.enough(_rounds(1.0, 0.02, n=10), "reference", "learner")


def test_enough_pairs_rounds_when_one_provider_has_an_extra_round():
    rounds = {"reference": [1.0] * 6, "learner": [2.0] * 5}
    assert speed.enough(rounds, "reference", "learner")


def test_unknown_provider_is_named_in_the_error():
    with pytest.raises(KeyError, match="shipped"):
        speed.enough({"reference": [1.0]}, "shipped", "reference")


def test_every_other_provider_is_compared_and_named():
    rounds = _rounds(2.0, 0.02)
    rounds["shipped"] = [t / 2 for t in rounds["learner"]]
    out = speed.summarize(_timings(rounds, providers={
        "reference": "torch's conv2d", "shipped": "hubkit's conv2d (cpp)"}), QUIET)
    names = [c["description"] for c in out["comparisons"]]
    assert names == ["torch's conv2d", "hubkit's conv2d (cpp)"]
    assert out["comparisons"][1]["verdict"] == "slower"
    assert out["providers"]["reference"]["description"] == "torch's conv2d"


def test_implausible_bandwidth_is_suspicious():
    peaks = {"bytes_per_s": 10e9, "flops_per_s": 100e9}
    # 1 GB in ~1 ms is ~1000 GB/s on a 10 GB/s machine
    out = speed.summarize(_timings(_rounds(1.0, 0.01), bytes=1e9), QUIET | {"peaks": peaks})
    assert out["suspicious"]
    assert "GB/s" in out["suspicious_why"]


def test_plausible_flops_are_not_suspicious():
    peaks = {"bytes_per_s": 10e9, "flops_per_s": 100e9}
    out = speed.summarize(_timings(_rounds(1.0, 0.01), flops=1e6), QUIET | {"peaks": peaks})
    assert not out["suspicious"] and out["suspicious_why"] == ""


def test_cpu_peaks_are_measured_and_cached(tmp_path):
    cache = tmp_path / "peaks.json"
    peaks = speed.measured_peaks("cpu", str(cache))
    assert peaks["bytes_per_s"] > 1e8 and peaks["flops_per_s"] > 1e8
    assert cache.is_file() and "cpu|" in cache.read_text()


def test_a_baseline_that_is_the_subject_gives_no_comparison():
    out = speed.summarize({"rounds": {"learner": [1.0] * 6}, "baseline": "learner",
                           "subject": "learner", "providers": {}}, QUIET)
    assert out["comparisons"] == [] and "verdict" not in out and not out["busy"]


def test_the_learner_is_your_code_even_when_described():
    timings = _timings(_rounds(1.6, 0.02))
    timings["providers"]["learner"] = "your code (through the checker's channel)"
    assert speed.summarize(timings, QUIET)["sentence"].startswith("Your code takes 1.6")


def test_too_few_rounds_give_no_verdict_however_clear_they_look():
    rounds = {"reference": [1.0, 1.0, 1.0], "learner": [2.0, 2.0, 2.0]}
    out = speed.summarize(_timings(rounds), QUIET)
    assert out["verdict"] == "indistinguishable" and out["busy"]
    assert "too few rounds to tell" in out["sentence"]
    assert any("only 3 timed rounds" in w for w in out["warnings"])
