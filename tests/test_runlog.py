"""hubkit.runlog: the --out folder, progress lines with an ETA, and the "wrote" list."""

from __future__ import annotations

import doctest
import io
import subprocess
import sys
from pathlib import Path

import pytest

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


def _raises(err: Exception):
    def main():
        raise err
    return main


def test_run_main_turns_a_missing_optional_package_into_one_line_naming_the_extra():
    with pytest.raises(SystemExit) as stop:
        runlog.run_main(_raises(ModuleNotFoundError("No module named 'sklearn'",
                                                    name="sklearn.datasets")))
    assert stop.value.code == ("error: No module named 'sklearn'; it comes with "
                               "pip install 'hubkit-learn[data]'")
    with pytest.raises(SystemExit, match=r"^error: needs regex: pip install regex$"):
        runlog.run_main(_raises(ImportError("needs regex: pip install regex")))
    with pytest.raises(ModuleNotFoundError):  # not an optional package: a real bug, shown
        runlog.run_main(_raises(ModuleNotFoundError("No module named 'hubkit.nope'",
                                                    name="hubkit.nope")))


def _scripts() -> list[str]:
    """Every hubkit module runnable with `python -m` (a `__main__` guard), but the CLIs."""
    import hubkit

    root = Path(hubkit.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        if 'if __name__ == "__main__":' in path.read_text():
            found.append(".".join(path.relative_to(root).with_suffix("").parts))
    return [m for m in found if m not in {"cli", "check.__init__", "__main__"}]


MAINS = _scripts()


def test_the_script_scan_finds_the_training_scripts():
    assert {"cnn.train", "rl.dqn", "rl.atari", "rnn.train", "lm.train"} <= set(MAINS)


@pytest.mark.parametrize("module", MAINS)
def test_every_training_script_runs_its_main_through_run_main(module):
    import importlib.util

    source = open(importlib.util.find_spec(f"hubkit.{module}").origin).read()
    assert source.rstrip().endswith("runlog.run_main(main)"), module


def test_a_script_without_matplotlib_ends_with_one_line_not_a_traceback(tmp_path):
    code = ("import runpy, sys; sys.modules['matplotlib'] = None; "
            f"sys.argv = ['q', '--episodes', '3', '--quiet', '--out', {str(tmp_path)!r}]; "
            "runpy.run_module('hubkit.rl.qlearning', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith("pip install 'hubkit-learn[plot]'")
