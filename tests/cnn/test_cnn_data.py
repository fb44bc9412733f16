"""Dataset loaders of hubkit.cnn.data, on files the tests write."""

from __future__ import annotations

import gzip
import pickle

import numpy as np
import pytest
import torch

from hubkit.cnn import data


def test_idx_round_trip_plain_and_gzipped(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    data.write_idx(tmp_path / "a-idx3-ubyte", arr)
    (tmp_path / "b.gz").write_bytes(gzip.compress((tmp_path / "a-idx3-ubyte").read_bytes()))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a-idx3-ubyte"), arr)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "b.gz"), arr)


def test_idx_header_is_big_endian_as_in_the_mnist_spec(tmp_path):
    # magic 0x00000801 (uint8, 1 dim), 3 items: 7, 1, 4
    (tmp_path / "labels").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 4]))
    np.testing.assert_array_equal(data.read_idx(tmp_path / "labels"), [7, 1, 4])


def test_idx_bad_magic_raises_value_error(tmp_path):
    (tmp_path / "junk").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        data.read_idx(tmp_path / "junk")


def test_load_mnist_reads_images_and_labels(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], dtype=np.uint8)
    data.write_idx(tmp_path / "t10k-images-idx3-ubyte", images)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(
        bytes([0, 0, 8, 1, 0, 0, 0, 4]) + labels.tobytes()))
    x, y = data.load_mnist(tmp_path, "test")
    assert x.shape == (4, 1, 28, 28) and x.dtype == torch.float32
    torch.testing.assert_close(x[2, 0], torch.tensor(images[2] / 255.0, dtype=torch.float32))
    assert y.tolist() == [3, 1, 4, 1]


def _write_cifar(root, batches=("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                                 "data_batch_5", "test_batch"), per=4, seed=0):
    rng = np.random.default_rng(seed)
    for name in batches:
        batch = {b"data": rng.integers(0, 256, (per, 3072), dtype=np.uint8),
                 b"labels": rng.integers(0, 10, per).tolist(), b"batch_label": name.encode()}
        with open(root / name, "wb") as f:
            pickle.dump(batch, f)


def test_load_cifar10_reads_python_pickle_batches(tmp_path):
    _write_cifar(tmp_path)
    x, y = data.load_cifar10(tmp_path, "train")
    xt, yt = data.load_cifar10(tmp_path, "test")
    assert x.shape == (20, 3, 32, 32) and x.dtype == torch.uint8 and y.shape == (20,)
    assert xt.shape == (4, 3, 32, 32)
    with open(tmp_path / "data_batch_2", "rb") as f:
        raw = pickle.load(f, encoding="bytes")
    # row layout: 1024 red, then 1024 green, then 1024 blue values, each row-major 32x32
    assert x[4, 1, 0, 5] == raw[b"data"][0][1024 + 5]
    assert y[4] == raw[b"labels"][0]


def test_augment_crops_and_flips_without_changing_shape(gen):
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6)
    out = data.augment(x, gen, pad=2)
    assert out.shape == x.shape
    zero_pad = data.augment(x, torch.Generator().manual_seed(0), pad=0)
    for i in range(2):  # with no padding each image is itself or its mirror
        assert torch.equal(zero_pad[i], x[i]) or torch.equal(zero_pad[i], x[i].flip(2))


def test_load_image_folder_reads_classes_in_sorted_order(tmp_path):
    import matplotlib.image as mpimg

    for name, value in (("cats", 0.2), ("ants", 0.8)):
        (tmp_path / name).mkdir()
        for i in range(2):
            mpimg.imsave(tmp_path / name / f"{i}.png", np.full((10, 12, 3), value))
    x, y, classes = data.load_image_folder(tmp_path, image_size=8)
    assert classes == ["ants", "cats"] and x.shape == (4, 3, 8, 8) and y.tolist() == [0, 0, 1, 1]
    assert abs(float(x[0].mean()) - 0.8) < 0.01


def test_digits_split_is_stratified_and_resized():
    x_tr, y_tr, x_te, y_te = data.load_digits_split(image_size=16)
    assert x_tr.shape[1:] == (1, 16, 16) and len(y_tr) + len(y_te) == 1797
    assert set(y_te.tolist()) == set(range(10))
