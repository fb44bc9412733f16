"""hubkit.runlog: the --out folder, progress lines with an ETA, and the "wrote" list."""

from __future__ import annotations

import doctest
import io

from hubkit import runlog


def test_runlog_docstring_example_runs():
    assert doctest.testmod(runlog).failed == 0


def test_progress_prints_count_metrics_and_eta_when_piped():
    buf = io.StringIO()
    with runlog.Progress(4, "step", stream=buf, min_interval=0) as bar:
        for i in range(4):
            bar.update(loss=0.5, acc=i)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("step 1/4  loss 0.5  acc 0  [")
    assert "<" in lines[0] and lines[-1].startswith("step 4/4")


def test_progress_throttles_piped_lines_but_always_prints_the_last():
    buf = io.StringIO()
    bar = runlog.Progress(100, "step", stream=buf, min_interval=3600)
    for _ in range(100):
        bar.update()
    assert buf.getvalue().splitlines() == [buf.getvalue().splitlines()[-1]]
    assert buf.getvalue().startswith("step 100/100")


def test_quiet_progress_prints_nothing():
    buf = io.StringIO()
    with runlog.Progress(2, "epoch", stream=buf, min_interval=0, enabled=False) as bar:
        bar.update()
        bar.log("epoch 1 done")
    assert buf.getvalue() == ""


def test_outputs_creates_folder_lazily_and_lists_what_was_written(tmp_path):
    out = runlog.Outputs(tmp_path / "run", "demo")
    assert not out.root.exists()
    out.path("metrics.jsonl").write_text("{}\n")
    buf = io.StringIO()
    out.report(buf)
    assert out.root.is_dir()
    assert f"wrote 1 file(s) under {out.root}/" in buf.getvalue()
    assert str(out.root / "metrics.jsonl") in buf.getvalue()


def test_default_out_is_under_runs_with_the_run_name():
    p = runlog.default_out("cnn")
    assert p.parent.name == "runs" and p.name.startswith("cnn-")


def test_parser_has_out_quiet_and_help_text():
    p = runlog.parser("python -m demo", "Train a demo.\n\nMore text.", "demo")
    args = p.parse_args(["--out", "x", "--quiet"])
    assert str(args.out) == "x" and args.quiet
    assert "Train a demo." in p.format_help() and "--out" in p.format_help()
