"""hubkit.cnn.train and plots: LeNet on real digits, CIFAR and fine-tuning smoke runs, PNGs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

import hubkit
from hubkit.cnn import plots, train
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
                            metrics=str(tmp_path / "m.jsonl"), progress=True, device="cpu")
    out = train.train_cifar10(cfg)
    records = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert out["steps"] == 2 and 0.0 <= out["test_accuracy"] <= 1.0
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
    assert 0.0 <= out["val_accuracy"] <= 1.0


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
                            metrics=None, progress=False, device="cuda", amp=True)
    out = train.train_cifar10(cfg)
    assert out["steps"] == 3 and 0.0 <= out["test_accuracy"] <= 1.0
    assert out["model"].stem[0].weight.grad is not None
