"""hubkit.lm.train: tiny runs end to end, resume, and DDP parity under torchrun (gloo, CPU)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from hubkit.lm import train

CORPUS = "\n".join(f"def f{i}(x):\n    return x * {i} + {i % 7}  # line {i}" for i in range(300))


def _tiny(folder, out, *extra):
    return ["--data", str(folder), "--vocab-size", "300", "--tokenizer-chars", "20000",
            "--block-size", "16", "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
            "--batch-size", "4", "--steps", "6", "--warmup", "2", "--eval-every", "3",
            "--eval-batches", "1", "--sample-tokens", "5", "--threads", "1", "--quiet",
            "--out", str(out), *extra]


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "texts"
    folder.mkdir()
    for i in range(3):
        (folder / f"part{i}.py").write_text(CORPUS[i::3], encoding="utf-8")
    return folder


def _history(out) -> list[dict]:
    return [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    cfg = train.TrainConfig(lr=1.0, warmup=10, steps=110)
    assert train.learning_rate(5, cfg) == 0.5 and train.learning_rate(10, cfg) == 1.0
    assert train.learning_rate(110, cfg) == pytest.approx(0.1)


def test_a_run_writes_checkpoint_curve_samples_and_summary(corpus, tmp_path, capsys):
    out = tmp_path / "run"
    summary = train.main(_tiny(corpus, out))
    printed = capsys.readouterr().out
    for name in ("checkpoint.pt", "tokenizer.json", "loss.png", "samples.txt", "summary.json",
                 "history.jsonl", "metrics.jsonl"):
        assert str(out / name) in printed, name
    assert (out / "loss.png").read_bytes()[:4] == b"\x89PNG"
    assert summary["step"] == 6 and summary["tokens"] == 6 * 4 * 16
    assert [r["step"] for r in _history(out)] == [1, 2, 3, 4, 5, 6]
    metrics = (out / "metrics.jsonl").read_text()
    assert '"val_loss"' in metrics and '"tok_s"' in metrics
    model, tok, ckpt = train.load_checkpoint(out / "checkpoint.pt")
    assert ckpt["step"] == 6 and tok.vocab_size == model.cfg.vocab_size <= 300


def test_a_killed_run_resumes_to_the_same_curve(corpus, tmp_path, monkeypatch):
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    train.main(_tiny(corpus, straight))
    one_step = train.Run.one_step

    def dies_at_step_5(run):
        if run.step == 4:
            raise KeyboardInterrupt  # the run is killed after the step-3 checkpoint
        return one_step(run)

    monkeypatch.setattr(train.Run, "one_step", dies_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train.main([*_tiny(corpus, killed), "--checkpoint-every", "3"])
    monkeypatch.setattr(train.Run, "one_step", one_step)
    train.main([*_tiny(corpus, killed), "--resume"])
    a, b = _history(straight), _history(killed)
    assert [r["step"] for r in b] == [1, 2, 3, 4, 5, 6]
    for x, y in zip(a, b, strict=True):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-5)


def test_fused_loss_runs_the_fused_op_and_follows_the_same_curve(corpus, tmp_path, monkeypatch):
    from hubkit.lm import ops

    calls, fused_op = [], ops.linear_cross_entropy
    monkeypatch.setattr(ops, "linear_cross_entropy",
                        lambda *a, **k: calls.append(a[0].shape) or fused_op(*a, **k))
    plain, fused = tmp_path / "plain", tmp_path / "fused"
    train.main(_tiny(corpus, plain))
    assert not calls
    train.main([*_tiny(corpus, fused), "--fused-loss"])
    assert calls[0] == (4 * 16, 16)  # (B*T, C) hidden states, one call per step
    assert len(calls) == 6
    for x, y in zip(_history(plain), _history(fused), strict=True):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-4)


def test_resume_refuses_a_different_model(corpus, tmp_path):
    out = tmp_path / "run"
    train.main(_tiny(corpus, out))
    with pytest.raises(SystemExit, match="n-embd"):
        train.main([*_tiny(corpus, out), "--n-embd", "32", "--resume"])


def test_two_gloo_processes_follow_the_one_process_loss_curve(corpus, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    train.main(_tiny(corpus, one))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "hubkit.lm.train", *_tiny(corpus, two)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = _history(one), _history(two)
    assert json.loads((two / "summary.json").read_text())["world_size"] == 2
    assert len(a) == len(b) == 6
    for x, y in zip(a, b, strict=True):
        assert x["loss"] == pytest.approx(y["loss"], rel=1e-4, abs=1e-5)
    assert a[-1]["val_loss"] == pytest.approx(b[-1]["val_loss"], rel=1e-4)
    assert a[0]["loss"] != pytest.approx(a[-1]["loss"], rel=1e-3)  # it did train


def test_batch_that_does_not_split_over_processes_names_batch_size():
    from hubkit.lm import distributed

    with pytest.raises(ValueError, match="batch_size"):
        distributed.shard(torch.zeros(5, 3), distributed.World(rank=0, size=2))


def test_each_process_takes_its_own_slice_of_the_global_batch():
    from hubkit.lm import distributed

    batch = torch.arange(8).view(4, 2)
    halves = [distributed.shard(batch, distributed.World(rank=r, size=2)) for r in (0, 1)]
    assert torch.equal(torch.cat(halves), batch) and halves[1].tolist() == [[4, 5], [6, 7]]
