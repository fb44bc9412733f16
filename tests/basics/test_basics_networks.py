"""Part 3 references: perceptron, losses, the NumPy tensor library, IDX files, PyTorch, profiler."""

import gzip
import json

import numpy as np
import pytest
import torch

from hubkit.basics import mnist, perceptron, profiling, studies, tensorlib, torch_mlp


def test_perceptron_separates_separable_data_and_draws(tmp_path):
    X, y = perceptron.separable_blobs(60, seed=3)
    p = perceptron.Perceptron(2).fit(X, y)
    assert (p.predict(X) == y).all() and p.mistakes[-1] == 0
    assert perceptron.plot_decision_boundary(p, X, y, tmp_path / "b.png").stat().st_size > 0


def test_cross_entropy_beats_mse_for_classification():
    grads = perceptron.loss_gradients_when_wrong(np.array([0.99]))
    assert grads["cross_entropy"][0] > 20 * grads["mse"][0]
    z = np.array([[2.0, -1.0, 0.5]])
    want = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor([2])).item()
    assert perceptron.cross_entropy_logits(z, np.array([2])) == pytest.approx(want)


@pytest.mark.parametrize("expr", ["bias", "column", "matmul_relu", "reuse", "mean_exp_log"])
def test_tensorlib_gradients_match_torch(expr):
    rng = np.random.default_rng(0)
    shapes = {"bias": [(4, 3), (3,)], "column": [(4, 3), (4, 1)],
              "matmul_relu": [(5, 4), (4, 3), (3,)], "reuse": [(2, 3)],
              "mean_exp_log": [(3, 2)]}[expr]
    arrays = [rng.standard_normal(s) for s in shapes]

    def build(*t):
        if expr in ("bias", "column"):
            return ((t[0] + t[1]) * t[1]).sum()
        if expr == "matmul_relu":
            return (t[0] @ t[1] + t[2]).relu().sum()
        if expr == "reuse":
            return (t[0] * t[0] - t[0]).sum()
        return ((t[0] * t[0] + 1.0).log() + t[0].exp()).mean()

    ours = [tensorlib.Tensor(a) for a in arrays]
    build(*ours).backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    build(*theirs).backward()
    for o, t in zip(ours, theirs, strict=True):
        assert np.allclose(o.grad, t.grad.numpy())


def test_tensorlib_cross_entropy_matches_torch():
    z = np.random.default_rng(1).standard_normal((4, 5)) * 10
    labels = np.array([0, 4, 2, 2])
    ours = tensorlib.Tensor(z)
    loss = tensorlib.cross_entropy(ours, labels)
    loss.backward()
    t = torch.tensor(z, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(t, torch.tensor(labels))
    ref.backward()
    assert float(loss.data) == pytest.approx(ref.item())
    assert np.allclose(ours.grad, t.grad.numpy())


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip_and_mnist_layout(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, (5, 28, 28)).astype(np.uint8)
    path = mnist.write_idx(tmp_path / "train-images-idx3-ubyte", images, compress=compress)
    raw = path.read_bytes()
    header = (gzip.decompress(raw) if compress else raw)[:16]
    assert header == bytes([0, 0, 8, 3, 0, 0, 0, 5, 0, 0, 0, 28, 0, 0, 0, 28])
    assert np.array_equal(mnist.read_idx(path), images)
    floats = np.linspace(-1, 1, 6).astype(np.float32)
    assert np.array_equal(mnist.read_idx(mnist.write_idx(tmp_path / "f.idx", floats)), floats)


def test_read_idx_rejects_a_truncated_file(tmp_path):
    path = mnist.write_idx(tmp_path / "x", np.zeros((3, 4), dtype=np.uint8))
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ValueError, match="header promises"):
        mnist.read_idx(path)


@pytest.mark.slow
def test_numpy_mlp_learns_the_digits_from_idx_files(tmp_path):
    pytest.importorskip("sklearn")
    folder = mnist.digits_as_idx(tmp_path)
    out = mnist.train(mnist.MnistConfig(epochs=3), folder)
    assert out["test_accuracy"] > 0.9


def test_mnist_script_logs_through_runlog(tmp_path):
    pytest.importorskip("sklearn")
    mnist.main(["--epochs", "1", "--out", str(tmp_path), "--quiet"])
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert "config" in lines[0] and '"test_accuracy"' in lines[-1]
    assert json.loads(lines[-1])["test_accuracy"] > 0.8  # one epoch, NumPy only


def test_manual_linear_gradients_equal_autograd_and_module_trains():
    diffs = torch_mlp.manual_vs_autograd()
    assert max(diffs.values()) < 1e-12
    layer = torch_mlp.ManualLinear(3, 2).double()
    assert torch.autograd.gradcheck(layer, (torch.randn(4, 3, dtype=torch.double,
                                                        requires_grad=True),))
    assert len(list(torch_mlp.TorchMLP([4, 8, 2], manual=True).parameters())) == 4


def test_profiler_records_cpu_and_gpu_only_where_there_is_one(tmp_path):
    out = profiling.profile_mlp("cpu", batch=8, width=16, steps=1, trace=tmp_path / "t.json")
    assert out["total_ms"]["cpu"] > 0 and (tmp_path / "t.json").stat().st_size > 0
    assert ("cuda" in out["activities"]) == torch.cuda.is_available()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            profiling.profile_mlp("cuda")


def test_regularization_study_and_schedules():
    study = studies.regularization_study()
    assert study["L2"]["test_mse"] < study["none"]["test_mse"] / 10
    assert (study["L1"]["w"] == 0).sum() >= 3 and (study["none"]["w"] == 0).sum() == 0
    curves = studies.schedule_curves(total=50, warmup=5, base_lr=1.0)
    wc = curves["warmup + cosine"]
    assert wc.argmax() == 5 and wc[-1] == pytest.approx(0.0) and wc[0] == pytest.approx(1 / 3)


def test_every_basics_script_logs_through_runlog():
    from pathlib import Path

    import hubkit.basics

    scripts = [p for p in Path(hubkit.basics.__file__).parent.glob("*.py")
               if '__name__ == "__main__"' in p.read_text()]
    assert [p.name for p in scripts] == ["mnist.py"]
    for p in scripts:
        text = p.read_text()
        assert text.rstrip().endswith("runlog.run_main(main)") and "runlog.tracker(" in text
