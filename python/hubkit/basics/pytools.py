"""Python tools a training loop leans on: @timer, a timing context manager, a Dataset
with a DataLoader, and a dataclass config. Fully type-annotated: tests run mypy on it.

- `@timer` wraps a function, keeps its name and docstring (functools.wraps) and
  records every call's seconds in `fn.timings`.
- `Timer` is the same thing as a context manager: `with Timer() as t: ...; t.seconds`.
- `Dataset` is the interface (`__len__`, `__getitem__`), like torch.utils.data.Dataset;
  `ArrayDataset` holds arrays, `Mapped` wraps another dataset (composition, not
  inheritance of its storage); `DataLoader` batches any of them.
- `LoaderConfig` is a `@dataclass` with a docstring per field and laptop defaults.

Shapes: features X (N, ...), targets y (N,); a batch is (B, ...), (B,).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, ParamSpec, TypeVar

import numpy as np

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
U = TypeVar("U")
Batch = tuple[np.ndarray, np.ndarray]


class TimedFunction(Generic[P, R]):
    """A function that records the wall-clock seconds of each call in `.timings`."""

    def __init__(self, fn: Callable[P, R]) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.timings: list[float] = []

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        start = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:  # subtle: a call that raises is timed too
            self.timings.append(time.perf_counter() - start)


def timer(fn: Callable[P, R]) -> TimedFunction[P, R]:
    """Decorator: time every call of `fn`; the seconds collect in `fn.timings`.

    Example:
        >>> @timer
        ... def square(x: int) -> int:
        ...     '''Square x.'''
        ...     return x * x
        >>> square(3), square.__name__, square.__doc__, len(square.timings)
        (9, 'square', 'Square x.', 1)
    """
    return TimedFunction(fn)


class Timer:
    """Context manager measuring the seconds its block takes (also when it raises).

    Example:
        >>> with Timer() as t:
        ...     _ = sum(range(1000))
        >>> t.seconds >= 0.0
        True
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> Timer:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


class Dataset(Generic[T]):
    """The interface: a length and integer indexing. Subclasses implement both."""

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> T:
        raise NotImplementedError


class ArrayDataset(Dataset[tuple[np.ndarray, np.ndarray]]):
    """(x_i, y_i) pairs from two arrays with the same first dimension.

    Example:
        >>> ds = ArrayDataset(np.arange(6.0).reshape(3, 2), np.array([0, 1, 0]))
        >>> len(ds), ds[-1][0].tolist(), int(ds[1][1])
        (3, [4.0, 5.0], 1)
    """

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        if len(x) != len(y):
            raise ValueError(f"y: expected {len(x)} targets to match x, got {len(y)}")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index: {index} out of range for {len(self)} items")
        return self.x[index], self.y[index]

    def __repr__(self) -> str:
        return f"ArrayDataset(n={len(self)}, x={self.x.shape[1:]}, y={self.y.shape[1:]})"


class Mapped(Dataset[U], Generic[T, U]):
    """Another dataset with a function applied to each item (composition)."""

    def __init__(self, base: Dataset[T], fn: Callable[[T], U]) -> None:
        self.base, self.fn = base, fn

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, index: int) -> U:
        return self.fn(self.base[index])


@dataclass
class LoaderConfig:
    """How a DataLoader batches.

    Attributes:
        batch_size: items per batch (the last batch may be smaller unless drop_last).
        shuffle: visit the items in a new random order every epoch.
        drop_last: skip a last batch smaller than batch_size.
        seed: seeds the shuffling, so two loaders with one seed agree.
    """

    batch_size: int = 32
    shuffle: bool = True
    drop_last: bool = False
    seed: int = 0


class DataLoader:
    """Iterate a Dataset[(x, y)] in stacked batches, like torch.utils.data.DataLoader.

    Example:
        >>> ds = ArrayDataset(np.arange(10.0)[:, None], np.arange(10))
        >>> [len(yb) for _, yb in DataLoader(ds, LoaderConfig(batch_size=4, shuffle=False))]
        [4, 4, 2]
    """

    def __init__(self, dataset: Dataset[tuple[np.ndarray, np.ndarray]],
                 config: LoaderConfig | None = None) -> None:
        self.dataset = dataset
        self.config = config or LoaderConfig()
        if self.config.batch_size < 1:
            raise ValueError(f"batch_size: expected >= 1, got {self.config.batch_size}")
        self.rng = np.random.default_rng(self.config.seed)

    def __len__(self) -> int:
        n, b = len(self.dataset), self.config.batch_size
        return n // b if self.config.drop_last else -(-n // b)

    def __iter__(self) -> Iterator[Batch]:
        n, b = len(self.dataset), self.config.batch_size
        order = self.rng.permutation(n) if self.config.shuffle else np.arange(n)
        for i in range(len(self)):
            items = [self.dataset[int(j)] for j in order[i * b:(i + 1) * b]]
            yield np.stack([x for x, _ in items]), np.stack([y for _, y in items])
