"""Checker spec for bpe_cpp: BPE training in C++, identical merges, timed against the reference.

The checker splits each text with the GPT-2 or GPT-4 pattern and counts the
distinct chunks; `train(words, counts, num_merges)` must return exactly the
reference's merges (hubkit.tokenizers.reference.train_merges) on a crafted
tie, windows of Python's docs, odd Unicode (bytes >= 128) and overlapping
repeats ("aaaa"). The first difference is explained. Speed: one training
run on a window of the docs, timed interleaved with the reference, which
recounts every pair after every merge.
"""

from __future__ import annotations

import functools

from hubkit.check import CheckContext, CustomSpec
from hubkit.exercise_support.bpe_cases import cases, explain, pydoc_window
from hubkit.tokenizers import reference

TIMED_MERGES = 200


def check(learner, ctx: CheckContext) -> None:
    graded = cases(ctx, 3000 if ctx.fast else 20_000)
    for name, text, vocab_size, pattern_name in graded:
        counts = reference.chunk_counts(text, reference.PATTERNS[pattern_name])
        want = reference.train_merges(counts, vocab_size - 256)
        with ctx.guard():
            got = learner.train(list(counts), list(counts.values()), vocab_size - 256)
        got = [tuple(p) for p in got]
        if got != want:
            ctx.fail(f"train ({name}, {pattern_name} pattern, {vocab_size - 256} merges): "
                     + explain(counts, got, want, learner_splits=False))
    ctx.note(f"{len(graded)} training texts: merges identical to hubkit's reference")


@functools.cache
def _timed_words(seed: int) -> tuple[list[bytes], list[int]]:
    class Ctx:  # pydoc_window needs only a generator
        import torch

        gen = torch.Generator().manual_seed(seed)

    counts = reference.chunk_counts(pydoc_window(Ctx, 15_000), reference.GPT4_PATTERN)
    return list(counts), list(counts.values())


def time(impl, ctx: CheckContext) -> None:
    words, counts = _timed_words(ctx.seed)
    impl.train(words, counts, TIMED_MERGES)


class ReferenceTrainer:
    """hubkit's reference behind the exercise's interface: the speed baseline."""

    @staticmethod
    def train(words: list[bytes], counts: list[int], num_merges: int) -> list:
        return reference.train_merges(dict(zip(words, counts, strict=True)), num_merges)


SPEC = CustomSpec(check=check, time=time, shipped=ReferenceTrainer())
