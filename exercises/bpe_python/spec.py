"""Checker spec for bpe_python: byte-level BPE training and encoding in Python.

1. merge on a small list (overlapping occurrences).
2. train on several texts (a crafted tie, Python's own docs, odd Unicode) with
   the GPT-2 and GPT-4 split patterns: merges must equal hubkit's reference
   merge for merge. The first difference is explained: a tied pair chosen by
   another rule, a pair that crosses the pattern's chunks, or a wrong count.
3. encode with the reference's merges, on text with characters never seen in
   training: ids must equal the reference's, and their bytes the text's.
"""

from __future__ import annotations

from hubkit.check import CheckContext, CustomSpec
from hubkit.exercise_support.bpe_cases import UNSEEN, cases, explain, pydoc_window
from hubkit.tokenizers import reference


def _check_basics(learner, ctx: CheckContext) -> None:
    # subtle: pair_counts is checked through train only: the channel between the grader
    # and the learner's process cannot carry a dict with tuple keys.
    with ctx.guard():
        merged = learner.merge([1, 1, 1, 2, 1, 1], (1, 1), 9)
    if list(merged) != [9, 1, 2, 9]:
        ctx.fail(f"merge([1, 1, 1, 2, 1, 1], (1, 1), 9) = {merged}, expected [9, 1, 2, 9]: "
                 "left to right, and a merged position is not used again")


def _check_train(learner, ctx: CheckContext) -> None:
    graded = cases(ctx, 2500 if ctx.fast else 12_000)
    for name, text, vocab_size, pattern_name in graded:
        pattern = reference.PATTERNS[pattern_name]
        counts = reference.chunk_counts(text, pattern)
        want = reference.train_merges(counts, vocab_size - 256)
        with ctx.guard():
            got = [tuple(p) for p in learner.train(text, vocab_size, pattern)]
        if got != want:
            ctx.fail(f"train ({name}, {pattern_name} pattern, vocab {vocab_size}): "
                     + explain(counts, got, want))
    ctx.note(f"{len(graded)} training texts: merges identical to hubkit's reference")


def _check_encode(learner, ctx: CheckContext) -> None:
    pattern = reference.GPT4_PATTERN
    train_text = pydoc_window(ctx, 3000)
    merges = reference.train_merges(reference.chunk_counts(train_text, pattern), 60)
    ranks = {p: i for i, p in enumerate(merges)}
    vocab = reference.vocab_bytes(merges)
    for text in (pydoc_window(ctx, 800), UNSEEN, "", "   \n\n  x"):
        want = [i for c in reference.split_chunks(text, pattern)
                for i in reference.encode_chunk(c.encode("utf-8"), ranks)]
        with ctx.guard():
            got = list(learner.encode(text, [list(p) for p in merges], pattern))
        if got == want:
            continue
        if any(not isinstance(i, int) or not 0 <= i < len(vocab) for i in got):
            ctx.fail(f"encode({text[:30]!r}...) returned ids outside [0, {len(vocab)})")
        if b"".join(vocab[i] for i in got) != text.encode("utf-8"):
            ctx.fail(f"encode({text[:30]!r}...) loses bytes: its ids decode to other text. Byte "
                     "fallback: every byte of every character, even one never seen in "
                     "training, is a token of its own (ids 0..255)")
        ctx.fail(f"encode({text[:30]!r}...) = {got[:12]}..., expected {want[:12]}...: merge "
                 "the lowest-ranked (earliest learned) pair first, within each chunk")


def check(learner, ctx: CheckContext) -> None:
    _check_basics(learner, ctx)
    _check_train(learner, ctx)
    _check_encode(learner, ctx)


SPEC = CustomSpec(check=check)
