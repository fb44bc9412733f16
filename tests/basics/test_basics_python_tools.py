"""Part 2 references: typed tools (mypy), broadcasting drills, pandas pipeline, dashboard."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hubkit.basics import dashboard, numpy_drills, pytools


def test_pytools_passes_mypy_strict():
    pytest.importorskip("mypy")
    path = Path(pytools.__file__)
    proc = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--ignore-missing-imports",
                           "--follow-imports=silent", "--no-incremental", str(path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_timer_keeps_name_and_records_calls_even_when_raising():
    @pytools.timer
    def boom(x: int) -> int:
        """Doc."""
        if x < 0:
            raise ValueError("negative")
        return x

    assert boom(2) == 2 and boom.__name__ == "boom" and boom.__doc__ == "Doc."
    with pytest.raises(ValueError):
        boom(-1)
    assert len(boom.timings) == 2


def test_dataset_indexing_and_loader_batches():
    ds = pytools.ArrayDataset(np.arange(10.0)[:, None], np.arange(10))
    assert len(ds) == 10 and ds[-1][1] == 9
    with pytest.raises(IndexError):
        ds[10]
    assert list(iter(ds))[3][1] == 3  # __getitem__ + IndexError make it iterable
    loader = pytools.DataLoader(ds, pytools.LoaderConfig(batch_size=4, seed=1))
    ys = np.concatenate([yb for _, yb in loader])
    assert sorted(ys.tolist()) == list(range(10)) and ys.tolist() != list(range(10))
    scaled = pytools.Mapped(ds, lambda item: (item[0] * 2, item[1]))
    assert scaled[3][0].tolist() == [6.0]


def test_broadcasting_drills_match_loops():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((4, 3))
    loops = np.array([[((a - b) ** 2).sum() for b in y] for a in x])
    assert np.allclose(numpy_drills.pairwise_sq_distances(x, y), loops)
    assert np.allclose(numpy_drills.softmax_rows(np.array([[1000.0, 1000.0]])), [[0.5, 0.5]])
    assert numpy_drills.class_means(x, np.array([0, 1, 0, 1, 1]), 2).shape == (2, 3)
    std = numpy_drills.standardize_columns(x * [1, 10, 100])
    assert np.allclose(std.mean(0), 0) and np.allclose(std.std(0), 1)


def test_preprocess_uses_training_statistics_only():
    pytest.importorskip("pandas")
    from hubkit.basics import dataprep

    train, test = dataprep.preprocess(dataprep.wine_frame(), target="target")
    assert train.notna().all().all() and test.notna().all().all()
    assert any(c.startswith("region=") for c in train.columns)
    assert abs(train["alcohol"].mean()) < 1e-9 and abs(test["alcohol"].mean()) > 1e-6


def test_dashboard_reads_a_runlog_file_and_draws(tmp_path):
    from hubkit import runlog

    with runlog.Tracker(tmp_path, name="demo", config={"lr": 0.1}) as t:
        for step in range(1, 6):
            t.log(step, loss=1.0 / step, accuracy=0.1 * step)
    metrics = dashboard.read_metrics(tmp_path / runlog.METRICS_FILE)
    assert sorted(metrics) == ["accuracy", "loss"]
    assert metrics["loss"][0].tolist() == [1, 2, 3, 4, 5]
    assert dashboard.dashboard(metrics, tmp_path / "dash.png").stat().st_size > 0
    line = json.loads((tmp_path / runlog.METRICS_FILE).read_text().splitlines()[0])
    assert "config" in line
