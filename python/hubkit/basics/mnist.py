"""MNIST-format data and the Part 3.2 key project: an MLP trained with NumPy only.

The IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is a 4-byte
magic number (two zero bytes, a type code, the number of dimensions), one
big-endian uint32 per dimension, then the values in row-major order, big-endian.
MNIST's files are `train-images-idx3-ubyte` (uint8, (N, 28, 28)) and
`train-labels-idx1-ubyte` (uint8, (N,)), often gzipped. `read_idx` reads any of
them (gzip or not); `write_idx` writes them, which is how the tests make files.

No download: `digits_as_idx` writes scikit-learn's shipped 8x8 digits (1797
images, 16 grey levels, scaled to 0..255) as IDX files, and `train` fits
`hubkit.basics.tensorlib.MLP` on them, so the whole pipeline is MNIST's.
Point `--data` at a folder with the real MNIST files to train on those.

    python -m hubkit.basics.mnist --epochs 10 --out runs/mnist-numpy

Shapes: images (N, H, W) uint8; X (N, H*W) float in [0, 1]; labels (N,).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hubkit import runlog
from hubkit.basics.tensorlib import MLP, SGD, Tensor, cross_entropy

# IDX type code -> big-endian dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
NAMES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def _open(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def read_idx(path: str | Path) -> np.ndarray:
    """The array in an IDX file (gzipped or not), in native byte order.

    Example:
        >>> import tempfile, pathlib
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> p = write_idx(folder / "x.idx", np.arange(6, dtype=np.uint8).reshape(2, 3))
        >>> read_idx(p).tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    path = Path(path)
    raw = _open(path)
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise ValueError(f"path: {path} is not an IDX file (bad magic {raw[:4].hex()})")
    ndim = raw[3]
    dims = np.frombuffer(raw, ">u4", count=ndim, offset=4).astype(np.int64)
    dtype = np.dtype(IDX_TYPES[raw[2]])
    need = 4 + 4 * ndim + int(np.prod(dims)) * dtype.itemsize
    if len(raw) != need:
        raise ValueError(f"path: {path} has {len(raw)} bytes, its header promises {need}")
    data = np.frombuffer(raw, dtype, offset=4 + 4 * ndim).reshape(tuple(dims))
    return data.astype(dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray, compress: bool = False) -> Path:
    """Write `array` as an IDX file (gzipped when `compress`); returns the path."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in IDX_TYPES.items()}
    code = codes.get(array.dtype)
    if code is None:
        raise ValueError(f"array: dtype {array.dtype} has no IDX type code")
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    body = header + array.astype(IDX_TYPES[code]).tobytes()
    path = Path(path)
    path.write_bytes(gzip.compress(body) if compress else body)
    return path


def digits_as_idx(folder: str | Path, test_fraction: float = 0.2, seed: int = 0) -> Path:
    """Write scikit-learn's 8x8 digits as MNIST-named IDX files in `folder`; returns it."""
    from sklearn.datasets import load_digits

    d = load_digits()
    images = np.round(d.images * 255 / 16).astype(np.uint8)  # (1797, 8, 8), 0..16 -> 0..255
    order = np.random.default_rng(seed).permutation(len(images))
    cut = int(len(order) * (1 - test_fraction))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for split, idx in (("train", order[:cut]), ("test", order[cut:])):
        img_name, lab_name = NAMES[split]
        write_idx(folder / img_name, images[idx])
        write_idx(folder / lab_name, d.target[idx].astype(np.uint8))
    return folder


def load_split(folder: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(X (N, H*W) in [0, 1], labels (N,)) from `folder`; `.gz` names are found too."""
    folder = Path(folder)
    arrays = []
    for name in NAMES[split]:
        path = next((p for p in (folder / name, folder / (name + ".gz")) if p.is_file()), None)
        if path is None:
            raise ValueError(f"folder: {folder} has no {name}[.gz]")
        arrays.append(read_idx(path))
    images, labels = arrays
    if len(images) != len(labels):
        raise ValueError(f"folder: {len(images)} images but {len(labels)} labels in {split}")
    return images.reshape(len(images), -1).astype(np.float64) / 255.0, labels.astype(np.int64)


@dataclass
class MnistConfig:
    """The NumPy MLP run.

    Attributes:
        hidden: widths of the hidden layers.
        epochs: passes over the training set.
        batch_size: images per SGD step.
        lr: SGD learning rate.
        momentum: SGD momentum.
        seed: seeds the weights and the batch order.
    """

    hidden: tuple[int, ...] = (64,)
    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.1
    momentum: float = 0.9
    seed: int = 0


def accuracy(net: MLP, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(net(Tensor(X)).data.argmax(axis=1) == y))


def train(cfg: MnistConfig, folder: str | Path, progress: runlog.Progress | None = None) -> dict:
    """Fit an MLP on `folder`'s train split; return the net and per-epoch metrics."""
    X, y = load_split(folder, "train")
    Xte, yte = load_split(folder, "test")
    net = MLP([X.shape[1], *cfg.hidden, int(y.max()) + 1], seed=cfg.seed)
    opt, rng, history = SGD(net.parameters(), cfg.lr, cfg.momentum), \
        np.random.default_rng(cfg.seed), []
    for epoch in range(1, cfg.epochs + 1):
        order, losses = rng.permutation(len(X)), []
        for i in range(0, len(X), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            opt.zero_grad()
            loss = cross_entropy(net(Tensor(X[idx])), y[idx])
            loss.backward()
            opt.step()
            losses.append(float(loss.data))
        row = {"epoch": epoch, "loss": float(np.mean(losses)),
               "test_accuracy": accuracy(net, Xte, yte)}
        history.append(row)
        if progress is not None:
            progress.update(loss=row["loss"], test_accuracy=row["test_accuracy"])
    return {"net": net, "history": history, "test_accuracy": history[-1]["test_accuracy"]}


def _parser():
    p = runlog.parser("python -m hubkit.basics.mnist", __doc__, "mnist-numpy")
    p.add_argument("--data", type=Path, default=None,
                   help="folder with MNIST IDX files (default: sklearn's digits, written as IDX)")
    p.add_argument("--epochs", type=int, default=MnistConfig.epochs, help="passes over the data")
    p.add_argument("--lr", type=float, default=MnistConfig.lr, help="SGD learning rate")
    p.add_argument("--seed", type=int, default=MnistConfig.seed, help="seeds weights and order")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: train the NumPy MLP, log metrics, write summary.json."""
    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    cfg = MnistConfig(epochs=args.epochs, lr=args.lr, seed=args.seed)
    data = args.data
    if data is None:
        data = digits_as_idx(outputs.folder() / "digits-idx")
        outputs.add(sorted(data.iterdir()))
    with runlog.tracker(args, outputs) as track:
        track.config(dataclasses.asdict(cfg) | {"data": str(data)})
        with runlog.Progress(cfg.epochs, "epoch", enabled=not args.quiet, tracker=track) as bar:
            out = train(cfg, data, bar)
    outputs.path("summary.json").write_text(json.dumps(
        {"config": dataclasses.asdict(cfg), "history": out["history"]}, indent=1) + "\n")
    print(f"test accuracy {out['test_accuracy']:.3f} after {cfg.epochs} epochs (NumPy only)")
    outputs.report()
    return out


if __name__ == "__main__":
    runlog.run_main(main)
