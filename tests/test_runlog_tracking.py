"""hubkit.runlog's experiment tracking: each backend read back from what it wrote."""

from __future__ import annotations

import argparse
import io
import json
import math
import struct
import sys
import types

import pytest

from hubkit import runlog, runs


def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _args(*argv: str) -> argparse.Namespace:
    return runlog.parser("python -m demo", "Train a demo.", "demo").parse_args(list(argv))


def test_jsonl_first_line_is_config_then_one_record_per_log(tmp_path):
    with runlog.Tracker(tmp_path / "run", config={"lr": 0.1, "out": tmp_path}) as t:
        t.log(1, loss=2.0, method="lora")
        t.config({"epochs": 3})
        t.log(2, loss=float("nan"), acc=1)
    head, first, extra, second = _records(tmp_path / "run" / "metrics.jsonl")
    assert head["run"] == "run" and head["config"] == {"lr": 0.1, "out": str(tmp_path)}
    assert head["started"].endswith("+00:00")
    assert first["step"] == 1 and first["loss"] == 2.0 and first["method"] == "lora"
    assert isinstance(first["time"], float) and extra == {"config": {"epochs": 3}}
    assert second["loss"] is None and second["acc"] == 1  # NaN is written as null


def test_jsonl_is_strict_json_and_tensors_and_numpy_scalars_become_floats(tmp_path):
    np = pytest.importorskip("numpy")
    torch = pytest.importorskip("torch")
    with runlog.Tracker(tmp_path, config={}) as t:
        t.log(5, a=np.float32(0.5), b=torch.tensor(0.25), c=float("inf"))
    line = (tmp_path / "metrics.jsonl").read_text().splitlines()[1]
    assert json.loads(line, parse_constant=pytest.fail) == {
        "step": 5, "time": json.loads(line)["time"], "a": 0.5, "b": 0.25, "c": None}


def test_a_metric_that_is_not_a_number_is_an_error_naming_it(tmp_path):
    with runlog.Tracker(tmp_path) as t, pytest.raises(TypeError, match="'weights'"):
        t.log(1, weights=[1, 2])


def test_progress_forwards_its_metrics_to_the_tracker_every_n_and_at_the_end(tmp_path):
    with runlog.Tracker(tmp_path) as t:
        bar = runlog.Progress(10, "step", stream=io.StringIO(), enabled=False,
                              tracker=t.prefixed("b/"), track_every=4)
        for i in range(10):
            bar.update(loss=float(i))
        bar.update(0, acc=0.9)  # logged at the current step without advancing
    rows = _records(tmp_path / "metrics.jsonl")[1:]
    assert [(r["step"], r.get("b/loss", r.get("b/acc"))) for r in rows] == [
        (4, 3.0), (8, 7.0), (10, 9.0), (10, 0.9)]


def test_log_flag_takes_repeats_and_commas_and_rejects_unknown_names(capsys):
    assert _args().log is None
    assert _args("--log", "tensorboard,wandb", "--log", "jsonl").log == [
        ["tensorboard", "wandb"], ["jsonl"]]
    with pytest.raises(SystemExit):
        _args("--log", "tensorbord")
    assert "unknown backend tensorbord" in capsys.readouterr().err


def test_tracker_from_args_writes_flags_and_lists_its_file(tmp_path):
    outputs = runlog.Outputs(tmp_path / "run", "demo")
    with runlog.tracker(_args("--out", str(tmp_path / "run")), outputs) as t:
        t.log(1, loss=1.0)
    head = _records(tmp_path / "run" / "metrics.jsonl")[0]
    assert head["config"] == {"out": str(tmp_path / "run"), "quiet": False}
    assert outputs.written == [tmp_path / "run" / "metrics.jsonl"]


@pytest.mark.parametrize("backend,package", [("tensorboard", "tensorboard"),
                                             ("wandb", "wandb"), ("mlflow", "mlflow")])
def test_missing_backend_is_one_line_with_the_pip_command(tmp_path, monkeypatch, backend,
                                                          package):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == package else real(name, *a))
    outputs = runlog.Outputs(tmp_path / "run", "demo")
    with pytest.raises(SystemExit) as stop:
        runlog.tracker(_args("--log", backend), outputs)
    message = str(stop.value)
    assert "\n" not in message and f"pip install {package}" in message
    assert message.startswith(f"error: --log {backend} needs")
    assert not outputs.root.exists()  # stopped before anything was written


def test_tensorboard_events_read_back_with_event_accumulator(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with runlog.Tracker(tmp_path, ["tensorboard"], config={"lr": 0.1}) as t:
        for step in (1, 2, 3):
            t.log(step, loss=1.0 / step, method="full")
    acc = EventAccumulator(str(tmp_path / "tensorboard"))
    acc.Reload()
    assert acc.Tags()["scalars"] == ["loss"]  # the string label is JSONL-only
    got = [(e.step, e.value) for e in acc.Scalars("loss")]
    assert got == [(1, 1.0), (2, 0.5), (3, pytest.approx(1 / 3))]
    assert "config/text_summary" in acc.Tags()["tensors"]


def _wandb_records(path) -> list:
    """Records of a .wandb file: a 7-byte header, then LevelDB-log chunks in 32 KiB blocks."""
    from wandb.proto import wandb_internal_pb2 as pb

    data, block, pos = path.read_bytes(), 32768, 7
    assert data[:4] == b":W&B"
    found, pending = [], b""
    while pos + 7 <= len(data):
        room = block - pos % block
        _crc, size, kind = struct.unpack("<IHB", data[pos:pos + 7])
        if room < 7 or (size == 0 and kind == 0):  # padding to the end of a block
            pos += room
            continue
        pending, pos = pending + data[pos + 7:pos + 7 + size], pos + 7 + size
        if kind in (1, 4):  # FULL or LAST chunk: a whole record
            record = pb.Record()
            record.ParseFromString(pending)
            found.append(record)
            pending = b""
    return found


def test_wandb_offline_run_read_back_from_its_wandb_file(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    monkeypatch.delenv("WANDB_MODE", raising=False)
    monkeypatch.setenv("WANDB_SILENT", "true")
    with runlog.Tracker(tmp_path, ["wandb"], config={"lr": 0.1}) as t:
        t.log(1, loss=1.0)
        t.log(2, loss=0.5)
        t.config({"epochs": 3})
    (path,) = (tmp_path / "wandb").glob("offline-run-*/run-*.wandb")  # offline: no account
    rows, configs = [], {}
    for r in _wandb_records(path):
        if r.WhichOneof("record_type") == "history":
            items = {i.key or "/".join(i.nested_key): json.loads(i.value_json)
                     for i in r.history.item}
            rows.append((items["step"], items["loss"]))
        elif r.WhichOneof("record_type") == "config":
            configs.update((i.key, json.loads(i.value_json)) for i in r.config.update)
    assert rows == [(1, 1.0), (2, 0.5)] and configs["epochs"] == 3


def test_mlflow_calls_through_a_stand_in_client(tmp_path, monkeypatch):
    """mlflow is not installed here: a stand-in module checks the calls hubkit makes."""
    calls = []

    class Client:
        def __init__(self, tracking_uri):
            calls.append(("uri", tracking_uri))

        def get_experiment_by_name(self, name):
            return None

        def create_experiment(self, name):
            return "7"

        def create_run(self, exp_id, run_name):
            calls.append(("run", exp_id, run_name))
            return types.SimpleNamespace(info=types.SimpleNamespace(run_id="r1"))

        def log_param(self, run_id, key, value):
            calls.append(("param", key, value))

        def log_metric(self, run_id, key, value, step):
            calls.append(("metric", key, value, step))

        def set_terminated(self, run_id):
            calls.append(("end", run_id))

    tracking = types.ModuleType("mlflow.tracking")
    tracking.MlflowClient = Client
    mlflow = types.ModuleType("mlflow")
    mlflow.__spec__ = types.SimpleNamespace(name="mlflow")
    monkeypatch.setitem(sys.modules, "mlflow", mlflow)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", tracking)
    monkeypatch.setattr(runlog, "require_backend", lambda name: None)
    with runlog.Tracker(tmp_path / "r", ["mlflow"], config={"lr": 0.1}) as t:
        t.log(3, **{"b/loss": 0.5, "method": "lora"})
    assert calls[0] == ("uri", (tmp_path / "r" / "mlruns").resolve().as_uri())
    assert calls[1:] == [("run", "7", "r"), ("param", "lr", "0.1"),
                         ("metric", "b_loss", 0.5, 3), ("end", "r1")]


def test_runs_reads_back_last_metrics_and_curves_with_nan(tmp_path):
    with runlog.Tracker(tmp_path / "a", config={"lr": 1}) as t:
        t.log(1, loss=float("nan"))
        t.log(2, loss=0.5, method="x")
    (run,) = runs.find_runs(tmp_path)
    assert run.name == "a" and run.config == {"lr": 1} and run.last == {"loss": 0.5,
                                                                         "method": "x"}
    steps, values = run.curve("loss")
    assert steps == [1, 2] and math.isnan(values[0]) and values[1] == 0.5
    assert run.metrics() == ["loss"]
