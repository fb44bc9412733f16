"""A @timer decorator, a Timer context manager and a Dataset (exercise python_tools).

Type hints are part of the exercise: annotate every argument and return value.
Shapes: x (N, ...), y (N,); a batch is (B, ...), (B,).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np


def timer(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: call fn, return its result, and append the call's seconds to wrapper.timings."""
    # BEGIN SOLUTION
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            wrapper.timings.append(time.perf_counter() - start)  # type: ignore[attr-defined]
    wrapper.timings = []  # type: ignore[attr-defined]
    return wrapper
    # END SOLUTION


class Timer:
    """with Timer() as t: ...  then t.seconds holds how long the block took."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.start = 0.0

    def __enter__(self) -> Timer:
        # BEGIN SOLUTION
        self.start = time.perf_counter()
        return self
        # END SOLUTION

    def __exit__(self, *exc: object) -> None:
        # BEGIN SOLUTION
        self.seconds = time.perf_counter() - self.start
        # END SOLUTION


def measure(fn: Callable[[], object]) -> float:
    """Seconds one call of fn() takes, measured with `with Timer() as t:`."""
    # BEGIN SOLUTION
    with Timer() as t:
        fn()
    return t.seconds
    # END SOLUTION


class ArrayDataset:
    """(x[i], y[i]) pairs; len() and indexing like a list (negative indices too)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        # BEGIN SOLUTION
        return len(self.x)
        # END SOLUTION

    def __getitem__(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        # BEGIN SOLUTION
        if not -len(self) <= i < len(self):
            raise IndexError(f"index {i} out of range for {len(self)} items")
        return self.x[i], self.y[i]
        # END SOLUTION


def batches(dataset: ArrayDataset, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (xs, ys) stacks of batch_size consecutive items; the last may be shorter."""
    # BEGIN SOLUTION
    for start in range(0, len(dataset), batch_size):
        items = [dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]
        yield np.stack([x for x, _ in items]), np.stack([y for _, y in items])
    # END SOLUTION
