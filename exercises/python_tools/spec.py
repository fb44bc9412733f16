"""Checker spec for python_tools: the decorator, the context manager, the dataset and batching.

The decorator wraps a grader-side function (a callback) that sleeps a known
time; the dataset gets arrays drawn from the run's seed. Type hints are read
from the learner's source with `ast`.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from hubkit.check import CheckContext, CheckFailure, CustomSpec
from hubkit.exercise_support.source_rules import learner_source, require_annotations

SLEEP_S = 0.02


def _slow_double(x):
    time.sleep(SLEEP_S)
    return 2 * x


def _check_timer(learner, ctx) -> None:
    with ctx.guard():
        wrapped = learner.timer(_slow_double)
        results = [wrapped(3), wrapped(5)]
        timings = list(wrapped.timings)
    if results != [6, 10]:
        raise CheckFailure(f"the decorated function returned {results}, expected [6, 10]: "
                           "the wrapper must pass on fn's return value")
    if len(timings) != 2:
        raise CheckFailure(f"after 2 calls wrapper.timings holds {len(timings)} entries: "
                           "append one duration per call")
    if not all(SLEEP_S * 0.9 <= t < 5 for t in timings):
        raise CheckFailure(f"timings {timings} for calls that sleep {SLEEP_S} s: measure the "
                           "seconds around the call with time.perf_counter()")
    with ctx.guard():
        seconds = learner.measure(lambda: time.sleep(SLEEP_S))
    if not SLEEP_S * 0.9 <= seconds < 5:
        raise CheckFailure(f"measure() returned {seconds} for a call sleeping {SLEEP_S} s: "
                           "Timer.__exit__ must store the elapsed seconds")


def _check_dataset(learner, ctx) -> None:
    rng = np.random.default_rng(int(torch.randint(1 << 30, (1,), generator=ctx.gen)))
    n = 7
    x, y = rng.standard_normal((n, 3)), rng.integers(0, 5, n)
    with ctx.guard():
        ds = learner.ArrayDataset(x, y)
        size, last = len(ds), ds[-1]
    if size != n:
        raise CheckFailure(f"len(dataset) is {size}, expected {n}")
    if not (np.array_equal(last[0], x[-1]) and last[1] == y[-1]):
        raise CheckFailure("dataset[-1] is not (x[-1], y[-1])")
    try:
        with ctx.guard():
            ds[n]
    except Exception as err:  # noqa: BLE001 - the learner's exception arrives as a stand-in
        if "IndexError" not in f"{type(err).__name__} {err}":
            raise CheckFailure(f"dataset[{n}] raised {err!r}, expected IndexError") from None
    else:
        raise CheckFailure(f"dataset[{n}] did not raise IndexError (the dataset has {n} items)")
    with ctx.guard():
        got = list(learner.batches(ds, 3))
    sizes = [len(b[1]) for b in got]
    if sizes != [3, 3, 1]:
        raise CheckFailure(f"batches of 3 over 7 items had sizes {sizes}, expected [3, 3, 1] "
                           "(keep the last, shorter batch)")
    if not np.array_equal(np.concatenate([b[0] for b in got]), x):
        raise CheckFailure("the batches do not hold the items in order")


def check(learner, ctx: CheckContext) -> None:
    require_annotations(learner_source(learner, "pytools.py"),
                        ("timer", "Timer", "measure", "ArrayDataset", "batches"))
    _check_timer(learner, ctx)
    _check_dataset(learner, ctx)
    ctx.note("decorator, context manager, dataset and batches behave; every def is annotated")


SPEC = CustomSpec(check=check)
