"""How speed is shown (hubkit.check.report) and remembered (hubkit.check.history)."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from rich.console import Console

from hubkit.check import history, report
from hubkit.check.result import Result

QUIET = {"cpu": "Test CPU", "cores": 8, "threads": 8, "gpu": None, "torch": "2.x",
         "loadavg": [0.1, 0.1, 0.1]}


def _new_timings(ratio: float, noise: float = 0.02, n: int = 20, **extra) -> dict:
    rng = np.random.default_rng(0)
    base = 1e-3 * (1 + 0.1 * rng.random(n))
    learner = base * ratio * np.exp(noise * rng.standard_normal(n))
    return {"rounds": {"reference": base.tolist(), "learner": learner.tolist(),
                       "shipped": (base / 2).tolist()},
            "providers": {"reference": "torch's conv2d", "shipped": "hubkit's conv2d (cpp)"},
            "baseline": "reference", "subject": "learner", "case": "bench 8x3x32x32", **extra}


OLD_TIMINGS = {"providers": {"reference": {"median_ms": 2.0, "iqr_ms": 0.1, "runs": 9},
                             "learner": {"median_ms": 4.0, "iqr_ms": 0.2, "runs": 9}},
               "case": "bench", "skipped": {}, "speedup_vs_reference": 0.5}


def _result(timings, status="pass", machine=QUIET, impl="learner") -> Result:
    return Result("conv2d_cpp", impl, "cpp", status, seed=7, backend="cpp", timings=timings,
                  machine=dict(machine), elapsed_s=2.0)


def _rendered(result: Result) -> str:
    out = io.StringIO()
    report.render(result, Console(file=out, width=200))
    return out.getvalue()


def test_report_names_the_provider_and_gives_the_ratio_with_its_ci():
    text = _rendered(_result(_new_timings(1.6)))
    assert "Your code takes 1.6" in text and "as long as torch's conv2d (95% CI 1." in text
    assert "than hubkit's conv2d (cpp)" in text or "as long as hubkit's conv2d (cpp)" in text
    assert "20 interleaved rounds" in text
    assert "warning" not in text


def test_report_warns_when_the_machine_is_too_busy_to_tell():
    busy = QUIET | {"cores": 2, "loadavg": [9.0, 9.0, 9.0]}
    text = _rendered(_result(_new_timings(1.0, noise=0.8, n=8), machine=busy))
    assert "warning: the timings are too noisy to tell" in text
    assert "warning: the machine is busy (load average 9.0 on 2 cores)" in text


def test_report_flags_an_implausible_speedup():
    machine = QUIET | {"peaks": {"bytes_per_s": 1e9, "flops_per_s": 1e9}}
    text = _rendered(_result(_new_timings(0.5, bytes=1e9), machine=machine))
    assert "suspicious: implausibly fast" in text


def test_report_still_shows_the_old_medians_only_shape():
    text = _rendered(_result(OLD_TIMINGS))
    assert "0.50x the speed of reference" in text and "4.000" in text


@pytest.mark.parametrize("ratio, cell", [(1.6, "1.6x slower"), (0.25, "4.0x faster")])
def test_speed_cell_says_which_way(ratio, cell):
    assert report.speed_cell(_result(_new_timings(ratio))) == cell


def test_speed_cell_marks_indistinguishable_and_busy():
    busy = QUIET | {"cores": 1, "loadavg": [5.0, 5.0, 5.0]}
    timings = _new_timings(1.0, n=8)
    swing = [1.5, 0.6, 1.3, 0.8, 1.4, 0.7, 1.2, 0.9]  # as often slower as faster
    base = timings["rounds"]["reference"]
    timings["rounds"]["learner"] = [t * f for t, f in zip(base, swing, strict=True)]
    assert report.speed_cell(_result(timings, machine=busy)) == "same speed?"


def test_not_run_and_skipped_rows_are_labelled_apart_from_pass():
    rows = [report.row_line(_result(None, status=s), 1, 2, 5.0).plain
            for s in ("pass", "skipped", "not_run")]
    assert " PASS " in rows[0] and " SKIPPED " in rows[1] and " NOT RUN " in rows[2]
    assert "PASS" not in rows[1] + rows[2]


# ---------------------------------------------------------------- history

def test_history_keeps_passing_learner_attempts_only(tmp_path):
    history.append(tmp_path, _result(_new_timings(2.0)))
    history.append(tmp_path, _result(_new_timings(1.0), status="fail"))
    history.append(tmp_path, _result(_new_timings(1.0), impl="solution"))
    history.append(tmp_path, _result(_new_timings(0.5)))
    entries = history.load(tmp_path, "conv2d_cpp")
    assert [e["attempt"] for e in entries] == [1, 2]
    assert [e["verdict"] for e in entries] == ["slower", "faster"]
    assert entries[0]["ratio"] == pytest.approx(2.0, rel=0.05)
    assert entries[0]["providers"]["reference"]["description"] == "torch's conv2d"
    assert "rounds" not in json.dumps(entries)  # summaries, not raw rounds


def test_history_records_the_old_shape_too(tmp_path):
    history.append(tmp_path, _result(OLD_TIMINGS))
    (entry,) = history.load(tmp_path, "conv2d_cpp")
    assert entry["ratio"] == pytest.approx(2.0) and entry["providers"]["learner"]["runs"] == 9


def test_history_skips_a_truncated_line(tmp_path):
    history.append(tmp_path, _result(_new_timings(2.0)))
    with open(history.history_path(tmp_path, "conv2d_cpp"), "a") as f:
        f.write('{"attempt": 2, "when"')
    assert len(history.load(tmp_path, "conv2d_cpp")) == 1


def test_history_table_and_plot(tmp_path):
    for ratio in (3.0, 2.0, 0.8):
        history.append(tmp_path, _result(_new_timings(ratio)))
    entries = history.load(tmp_path, "conv2d_cpp")
    out = io.StringIO()
    Console(file=out, width=200).print(history.table(entries, "conv2d_cpp"))
    text = out.getvalue()
    assert "3 passing attempts" in text and "slower" in text and "faster" in text
    png = history.plot(entries, "conv2d_cpp", tmp_path / "plots" / "h.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_workspace_record_appends_to_history(tmp_path):
    from hubkit.check import workspace

    (tmp_path / workspace.MARKER).write_text('{"passed": {}, "hints": {}}')
    workspace.record(tmp_path, _result(_new_timings(1.6)))
    workspace.record(tmp_path, _result(_new_timings(1.6), status="fail"))
    assert len(history.load(tmp_path, "conv2d_cpp")) == 1


def test_progress_history_command_prints_the_table_and_says_what_it_wrote(tmp_path, capsys,
                                                                          monkeypatch):
    from hubkit.check import workspace
    from hubkit.cli import main

    monkeypatch.delenv("HUBKIT_WORKSPACE", raising=False)
    (tmp_path / workspace.MARKER).write_text('{"passed": {}, "hints": {}}')
    assert main(["progress", "--history", "conv2d_cpp", "-w", str(tmp_path)]) == 0
    assert "no passing attempts of conv2d_cpp" in capsys.readouterr().out
    workspace.record(tmp_path, _result(_new_timings(1.6)))
    png = tmp_path / "out" / "speed.png"
    assert main(["progress", "--history", "conv2d_cpp", "-w", str(tmp_path),
                 "--out", str(png)]) == 0
    text = capsys.readouterr().out
    assert "1 passing attempts" in text and f"wrote {png}" in text
    assert png.is_file()


def test_grading_the_shipped_solution_does_not_say_your_code():
    text = _rendered(_result(_new_timings(1.6), impl="solution"))
    assert "hubkit's solution takes 1.6" in text and "Your code" not in text


def test_check_all_footer_explains_a_busy_mark_only_when_a_row_shows_one():
    busy = QUIET | {"cores": 1, "loadavg": [5.0, 5.0, 5.0]}
    quiet_rows = [_result(_new_timings(1.6)), _result(None, status="not_run")]
    assert report.footer_lines(quiet_rows) == ["on: " + report.describe_machine(QUIET)]
    lines = report.footer_lines([_result(_new_timings(1.6), machine=busy)])
    assert lines[0].startswith("on: ") and len(lines) == 2
    assert lines[1].startswith("? after a speed: the machine was busy")


def test_every_timed_exercise_names_its_providers_for_what_they_are():
    from hubkit.check import get_exercise
    from hubkit.check.exercises import all_exercises
    from hubkit.check.runner import load_spec
    from hubkit.check.spec import OpSpec
    from hubkit.check.timing import describe_providers

    for ex in all_exercises():
        spec = load_spec(get_exercise(ex.id))
        if not isinstance(spec, OpSpec):
            continue
        names = describe_providers(spec)
        assert names["learner"] == "your code"
        for provider in ("reference", "shipped"):
            if provider in names:  # a real name, never the spec file's function
                assert "hubkit" in names[provider] and "hubkit_spec_" not in names[provider]
                assert "lambda" not in names[provider], (ex.id, names[provider])
