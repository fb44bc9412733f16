"""Image datasets for the CNN slice, loaded from local files (nothing downloads here).

* sklearn's bundled handwritten digits (8x8, offline), resized for LeNet;
* MNIST in its IDX format (http://yann.lecun.com/exdb/mnist/), gzipped or not;
* CIFAR-10 python-pickle batches (https://www.cs.toronto.edu/~kriz/cifar.html);
* an image folder, root/<class>/<image>.png, for transfer learning.

Shape legend: N images, C channels, H x W pixels.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
# IDX type byte -> numpy dtype (big-endian on disk).
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def load_digits_split(image_size: int = 32, test_fraction: float = 0.25, seed: int = 0):
    """sklearn's 1,797 8x8 digits, resized to image_size and split train/test by class.

    Returns:
        (x_train (N, 1, S, S) float32 in [0, 1], y_train (N,) int64, x_test, y_test).
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (N, 1, 8, 8)
    x = F.interpolate(x, size=(image_size, image_size), mode="bilinear", align_corners=False)
    y = torch.tensor(digits.target, dtype=torch.int64)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=test_fraction,
                                           random_state=seed, stratify=digits.target)
    return x[idx_train], y[idx_train], x[idx_test], y[idx_test]


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (MNIST's format); `.gz` files are decompressed.

    Layout: two zero bytes, a type byte, the number of dims, then each dim as a
    big-endian uint32, then the data.
    """
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"path: {path} is not an IDX file (bad magic number)")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", ndim, offset=4))
    data = np.frombuffer(raw, _IDX_DTYPES[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"path: {path} holds {data.size} values, header says {dims}")
    return data.reshape(dims).astype(data.dtype.newbyteorder("="))


def write_idx(path: str | Path, array: np.ndarray) -> None:
    """Write `array` as an IDX file (uint8 or float32), for tests and small exports."""
    code = {np.dtype("uint8"): 0x08, np.dtype("float32"): 0x0D}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    Path(path).write_bytes(header + array.astype(_IDX_DTYPES[code]).tobytes())


def load_mnist(root: str | Path, split: str = "train"):
    """MNIST images and labels from `root` ({train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]).

    Returns:
        (x (N, 1, 28, 28) float32 in [0, 1], y (N,) int64).
    """
    prefix = {"train": "train", "test": "t10k"}[split]
    root = Path(root)

    def find(stem: str) -> Path:
        for name in (stem, stem + ".gz"):
            if (root / name).exists():
                return root / name
        raise FileNotFoundError(f"root: no {stem}[.gz] in {root}")

    images = read_idx(find(f"{prefix}-images-idx3-ubyte"))
    labels = read_idx(find(f"{prefix}-labels-idx1-ubyte"))
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return x, torch.from_numpy(labels.astype(np.int64))


def load_cifar10(root: str | Path, split: str = "train"):
    """CIFAR-10 from its python-pickle batches (data_batch_1..5, test_batch) in `root`.

    Returns:
        (x (N, 3, 32, 32) uint8, y (N,) int64).
    """
    root = Path(root)
    names = [f"data_batch_{i}" for i in range(1, 6)] if split == "train" else ["test_batch"]
    xs, ys = [], []
    for name in names:
        with open(root / name, "rb") as f:
            batch = pickle.load(f, encoding="bytes")
        xs.append(np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
        ys.append(np.asarray(batch[b"labels"], dtype=np.int64))
    return torch.from_numpy(np.concatenate(xs)), torch.from_numpy(np.concatenate(ys))


def normalize_cifar(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float32, per-channel standardized."""
    mean = torch.tensor(CIFAR_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR_STD, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean) / std


def augment(x: torch.Tensor, gen: torch.Generator, pad: int = 4,
            flip: bool = True) -> torch.Tensor:
    """Standard CIFAR augmentation on a batch: random crop after padding, random h-flip.

    Args:
        x: (N, C, H, W) float batch.
        gen: generator on x's device, for reproducible crops and flips.
        pad: crops shift the image by up to this many pixels each way.
        flip: mirror half the images (not for digits: a mirrored 2 is no 2).
    """
    n, _, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=x.device)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen, device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (N, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (N, 1, 1, W)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    out = padded[batch, chans, rows, cols]  # (N, C, H, W) crops
    if not flip:
        return out
    mirror = torch.rand(n, generator=gen, device=x.device) < 0.5
    return torch.where(mirror[:, None, None, None], out.flip(3), out)


def load_image_folder(root: str | Path, image_size: int = 32):
    """Images from root/<class>/*.png, resized; classes sorted by name.

    Returns:
        (x (N, 3, S, S) float32 in [0, 1], y (N,) int64, class names).
    """
    import matplotlib.image as mpimg

    root = Path(root)
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    if not classes:
        raise ValueError(f"root: {root} has no class folders")
    xs, ys = [], []
    for label, name in enumerate(classes):
        for file in sorted((root / name).glob("*.png")):
            img = torch.tensor(np.asarray(mpimg.imread(file), dtype=np.float32))
            img = img[..., None].expand(*img.shape, 3) if img.dim() == 2 else img[..., :3]
            img = img.permute(2, 0, 1).unsqueeze(0)  # (1, 3, H, W)
            xs.append(F.interpolate(img, size=(image_size, image_size), mode="bilinear",
                                    align_corners=False))
            ys.append(label)
    return torch.cat(xs), torch.tensor(ys, dtype=torch.int64), classes
