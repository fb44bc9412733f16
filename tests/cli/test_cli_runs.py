"""`hubkit runs`: list the runs runlog wrote, plot their curves side by side."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hubkit import runlog
from hubkit.cli import main


def _write_run(folder, lr: float, steps: int = 5, extra: dict | None = None) -> None:
    with runlog.Tracker(folder, config={"lr": lr}) as t:
        for step in range(1, steps + 1):
            t.log(step, loss=1.0 / (step * lr), acc=step / steps, **(extra or {}))


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def two_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _write_run(tmp_path / "runs" / "cnn-digits-1", lr=1.0)
    _write_run(tmp_path / "runs" / "cnn-digits-2", lr=0.5, steps=3, extra={"method": "lora"})
    return tmp_path


def test_runs_lists_each_run_with_its_last_step_and_metrics(two_runs, capsys):
    code, out, _ = _run(capsys, "runs")
    assert code == 0
    lines = [ln for ln in out.splitlines() if "cnn-digits-" in ln]
    assert len(lines) == 2 and "cnn-digits-1" in lines[0] and "cnn-digits-2" in lines[1]
    assert "│ 5 " in lines[0] and "loss 0.2 " in lines[0] and "acc 1" in lines[0]
    assert "│ 3 " in lines[1] and "loss 0.6667" in lines[1] and "method lora" in lines[1]


def test_runs_takes_another_folder_and_says_when_there_is_none(two_runs, capsys):
    code, out, _ = _run(capsys, "runs", str(two_runs / "runs" / "cnn-digits-2"))
    assert code == 0 and "cnn-digits-2" in out and "cnn-digits-1" not in out
    code, out, _ = _run(capsys, "runs", str(two_runs / "elsewhere"))
    assert code == 0 and "no runs under" in out


def test_runs_plot_writes_a_png_with_one_panel_per_metric(two_runs, capsys):
    pytest.importorskip("matplotlib")
    import matplotlib.image as mpimg

    png = two_runs / "curves.png"
    code, out, _ = _run(capsys, "runs", "--plot", "loss,acc", "--out", str(png))
    assert code == 0 and f"wrote {png}" in out and "2 run(s)" in out
    height, width = mpimg.imread(png).shape[:2]
    assert width > 1.8 * height  # two panels side by side
    code, out, _ = _run(capsys, "runs", "--plot", "loss", "--out", str(png), "cnn-digits-2")
    assert code == 0 and "1 run(s): cnn-digits-2" in out


def test_runs_plot_errors_are_one_line(two_runs, capsys):
    png = str(two_runs / "c.png")
    for args, text in [(["--plot", "loss"], "--plot needs --out"),
                       (["--plot", "loss", "--out", png, "nope"], "no run 'nope'"),
                       (["--plot", "bleu", "--out", png], "no run logged bleu")]:
        code, out, err = _run(capsys, "runs", *args)
        assert code == 2 and err.startswith("error: ") and text in err
        assert err.count("\n") == 1 and "Traceback" not in err
    assert not (two_runs / "c.png").exists()


def test_runs_reads_what_a_training_script_wrote(tmp_path, capsys, monkeypatch):
    from hubkit.rl import qlearning

    monkeypatch.chdir(tmp_path)
    qlearning.main(["--episodes", "20", "--quiet", "--out", str(tmp_path / "runs" / "q")])
    capsys.readouterr()
    code, out, _ = _run(capsys, "runs")
    assert code == 0 and "│ q " in out and "│ 18 " in out and "greedy_success" in out


def test_runs_does_not_import_torch(two_runs):
    probe = ("import sys; from hubkit.cli import main; code = main(['runs']); "
             "print(code, 'torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=two_runs, capture_output=True,
                         text=True, timeout=120, check=True)
    assert out.stdout.split()[-3:] == ["0", "False", "False"]


def test_metrics_jsonl_lines_are_strict_json(two_runs):
    path = two_runs / "runs" / "cnn-digits-1" / "metrics.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert "config" in rows[0] and all("step" in r and "time" in r for r in rows[1:])
