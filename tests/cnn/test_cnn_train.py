"""hubkit.cnn.train and plots: LeNet on real digits, CIFAR and fine-tuning smoke runs, PNGs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

import hubkit
from hubkit import runs
from hubkit.cnn import data, plots, train
from hubkit.cnn.layers import LeNet5, ResNet18


def test_lenet_on_digits_reaches_97_percent_with_the_cpp_backend(tmp_path):
    if "cpp" not in hubkit.ops.available_backends():
        pytest.skip("cpp backend not built")
    start = time.process_time()
    out = train.train_lenet_digits(train.DigitsConfig(backend="cpp"))
    print(f"digits: test {out['test_accuracy']:.4f}, wall {out['seconds']:.1f}s, "
          f"cpu {time.process_time() - start:.1f}s")
    assert out["test_accuracy"] >= 0.97
    for path in train.save_digits_plots(out, tmp_path):  # the trained filters, curves, RF
        assert path.read_bytes()[:4] == b"\x89PNG"


def test_cosine_lr_warms_up_then_decays_to_zero():
    assert train.cosine_lr(0, 100, 1.0, warmup=10) == pytest.approx(0.1)
    assert train.cosine_lr(10, 100, 1.0, warmup=10) == pytest.approx(1.0)
    assert train.cosine_lr(55, 100, 1.0, warmup=10) == pytest.approx(0.5)
    assert train.cosine_lr(100, 100, 1.0, warmup=10) == pytest.approx(0.0)


def test_cifar_script_runs_two_steps_on_generated_batches_and_logs_jsonl(tmp_path):
    from test_cnn_data import _write_cifar

    _write_cifar(tmp_path, per=8)
    cfg = train.CifarConfig(data=str(tmp_path), epochs=1, batch_size=8, width=4, max_steps=2,
                            metrics=str(tmp_path / "m.jsonl"), device="cpu")
    out = train.train_cifar10(cfg)
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    x_te, y_te = data.load_cifar10(str(tmp_path), "test")
    # the reported figure is the returned model's accuracy on the test pickles
    assert out["steps"] == 2
    assert out["test_accuracy"] == train.evaluate(out["model"], x_te, y_te,
                                                  transform=data.normalize_cifar)
    assert [r["event"] for r in records] == ["config", "train", "eval"]
    assert records[1]["step"] == 2 and np.isfinite(records[1]["loss"])


def _stripe_images(root, per_class=6):
    import matplotlib.image as mpimg

    rng = np.random.default_rng(0)
    for name, axis in (("horizontal", 0), ("vertical", 1)):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            stripes = (np.arange(16) // 2 % 2).astype(float)
            img = np.repeat(stripes[:, None] if axis == 0 else stripes[None, :], 16, axis=1 - axis)
            img = np.clip(img + 0.1 * rng.standard_normal((16, 16)), 0, 1)
            mpimg.imsave(root / name / f"{i}.png", np.stack([img] * 3, -1))


def test_finetune_loads_a_checkpoint_replaces_the_head_and_freezes_the_backbone(tmp_path):
    _stripe_images(tmp_path / "images")
    trained = ResNet18(num_classes=10, width=4)
    torch.save(trained.state_dict(), tmp_path / "resnet.pt")
    cfg = train.FinetuneConfig(data=str(tmp_path / "images"),
                               checkpoint=str(tmp_path / "resnet.pt"), width=4, image_size=16,
                               epochs=2, batch_size=4, device="cpu")
    out = train.finetune_image_folder(cfg)
    model = out["model"]
    assert out["classes"] == ["horizontal", "vertical"] and model.fc.out_features == 2
    torch.testing.assert_close(model.stem[0].weight, trained.stem[0].weight)  # loaded, frozen
    assert model.stem[0].weight.grad is None and model.fc.weight.grad is not None
    x, y, _ = data.load_image_folder(str(tmp_path / "images"), 16)
    split = torch.randperm(len(y), generator=torch.Generator().manual_seed(cfg.seed))
    val = split[:max(1, len(y) // 5)]  # the held-out fifth the run validated on
    assert out["val_accuracy"] == train.evaluate(model, x[val], y[val])


def test_plots_write_png_files(tmp_path):
    lenet = LeNet5()
    paths = [
        plots.plot_filters(lenet.features[0].weight, tmp_path / "filters.png"),
        plots.plot_curves([{"epoch": 0, "loss": 1.0, "acc": 0.5},
                           {"epoch": 1, "loss": 0.5, "acc": 0.9}], tmp_path / "curves.png"),
        plots.plot_receptive_field(lenet.features[:5], (1, 32, 32), tmp_path / "rf.png",
                                   theory=plots.receptive_field([(5, 1, 1), (2, 2, 1), (5, 1, 1)])),
    ]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_effective_receptive_field_matches_the_formula_for_two_3x3_convs():
    model = torch.nn.Sequential(hubkit.nn.Conv2d(1, 1, 3), hubkit.nn.Conv2d(1, 1, 3))
    for m in model:
        torch.nn.init.constant_(m.weight, 1.0)
    erf = plots.effective_receptive_field(model, (1, 11, 11))
    rows, cols = (erf > 0).nonzero().unbind(1)
    assert int(rows.max() - rows.min() + 1) == plots.receptive_field([(3, 1, 1)] * 2) == 5
    assert int(cols.max() - cols.min() + 1) == 5


@pytest.mark.gpu
def test_cifar_script_runs_with_bf16_autocast_on_the_cuda_backend(tmp_path):
    from test_cnn_data import _write_cifar

    _write_cifar(tmp_path, per=16)
    cfg = train.CifarConfig(data=str(tmp_path), epochs=1, batch_size=16, width=8, max_steps=3,
                            metrics=None, device="cuda", amp=True)
    out = train.train_cifar10(cfg)
    x_te, y_te = data.load_cifar10(str(tmp_path), "test")
    assert out["steps"] == 3
    assert out["test_accuracy"] == train.evaluate(out["model"], x_te.cuda(), y_te.cuda(),
                                                  transform=data.normalize_cifar)
    assert out["model"].stem[0].weight.grad is not None


def test_train_help_describes_the_tasks_without_running(capsys):
    with pytest.raises(SystemExit) as exit_:
        train.main(["--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "digits" in text and "cifar" in text and "finetune" in text
    with pytest.raises(SystemExit):
        train.main(["digits", "--help"])
    assert "--out" in capsys.readouterr().out


def test_digits_run_writes_only_under_out_and_lists_what_it_wrote(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    train.main(["digits", "--epochs", "1", "--no-plots", "--out", str(tmp_path / "run")])
    captured = capsys.readouterr()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # nothing else in the cwd
    written = sorted(p.name for p in (tmp_path / "run").iterdir())
    assert written == ["history.jsonl", "metrics.jsonl", "model.pt", "summary.json"]
    assert f"wrote 4 file(s) under {tmp_path / 'run'}/" in captured.out
    (logged,) = runs.find_runs(tmp_path / "run")  # through hubkit.runlog's tracker
    assert logged.config["epochs"] == 1 and logged.records[0]["step"] == 1
    assert logged.records[0]["test_accuracy"] == json.loads(
        (tmp_path / "run" / "summary.json").read_text())["test_accuracy"]
    assert "epoch 1/1" in captured.err and "test_accuracy" in captured.err
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["history"][0]["epoch"] == 0
