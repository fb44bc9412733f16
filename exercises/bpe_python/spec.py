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

import torch

from hubkit.check import CheckContext, CustomSpec
from hubkit.tokenizers import reference

UNSEEN = "héllo wörld 世界 🤖 naïve — ok"


def _pydoc(ctx: CheckContext, size: int) -> str:
    import pydoc_data.topics as topics

    text = "".join(topics.topics.values())
    start = int(torch.randint(0, len(text) - size, (), generator=ctx.gen))
    return text[start:start + size]


def cases(ctx: CheckContext) -> list[tuple[str, str, int, str]]:
    """(name, text, vocab_size, pattern) for the training checks."""
    size = 2500 if ctx.fast else 12_000
    return [("tie", "ba ab", 260, "gpt4"),
            ("pydoc gpt4", _pydoc(ctx, size), 300 if ctx.fast else 400, "gpt4"),
            ("pydoc gpt2", _pydoc(ctx, size), 290, "gpt2"),
            ("unicode", (UNSEEN + " 12345 it's ") * 20, 300, "gpt4")]


def _state(text: str, pattern: str, merges: list) -> dict:
    """Pair counts after applying `merges` to the chunks of `text` (the reference's view)."""
    counts = reference.chunk_counts(text, pattern)
    words, freqs = [list(c) for c in counts], list(counts.values())
    for i, pair in enumerate(merges):
        words = [reference.merge(w, pair, 256 + i) for w in words]
    return reference.pair_counts(words, freqs)


def explain(text: str, pattern: str, got: list, want: list) -> str:
    """Why the learner's merges differ from the reference's, at the first difference."""
    k = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
    if k == min(len(got), len(want)):
        return (f"you learned {len(got)} merges, expected {len(want)}: stop only when no pair "
                "is left, or after vocab_size - 256 merges")
    counts = _state(text, pattern, want[:k])
    g, w = got[k], want[k]
    if g not in counts:
        return (f"merge {k}: you merged {g}, a pair that never occurs inside one chunk of the "
                f"split pattern (expected {w}): split the text with the pattern first and count "
                "pairs within chunks; merges never cross a chunk")
    if counts[g] == counts[w]:
        return (f"merge {k}: you merged {g}, expected {w}; both occur {counts[w]} times: on "
                "a tie merge the smallest (id_a, id_b) pair, not the first one counted")
    return (f"merge {k}: you merged {g} (it occurs {counts[g]} times), expected {w} "
            f"({counts[w]} times): count every adjacent pair of every chunk, weighted by how "
            "often the chunk occurs")


def _check_basics(learner, ctx: CheckContext) -> None:
    # subtle: pair_counts is checked through train only: the channel between the grader
    # and the learner's process cannot carry a dict with tuple keys.
    with ctx.guard():
        merged = learner.merge([1, 1, 1, 2, 1, 1], (1, 1), 9)
    if list(merged) != [9, 1, 2, 9]:
        ctx.fail(f"merge([1, 1, 1, 2, 1, 1], (1, 1), 9) = {merged}, expected [9, 1, 2, 9]: "
                 "left to right, and a merged position is not used again")


def _check_train(learner, ctx: CheckContext) -> None:
    for name, text, vocab_size, pattern_name in cases(ctx):
        pattern = reference.PATTERNS[pattern_name]
        want = reference.train_merges(reference.chunk_counts(text, pattern), vocab_size - 256)
        with ctx.guard():
            got = [tuple(p) for p in learner.train(text, vocab_size, pattern)]
        if got != want:
            ctx.fail(f"train ({name}, {pattern_name} pattern, vocab {vocab_size}): "
                     + explain(text, pattern, got, want))
    ctx.note(f"{len(cases(ctx))} training texts: merges identical to hubkit's reference")


def _check_encode(learner, ctx: CheckContext) -> None:
    pattern = reference.GPT4_PATTERN
    train_text = _pydoc(ctx, 3000)
    merges = reference.train_merges(reference.chunk_counts(train_text, pattern), 60)
    ranks = {p: i for i, p in enumerate(merges)}
    vocab = reference.vocab_bytes(merges)
    for text in (_pydoc(ctx, 800), UNSEEN, "", "   \n\n  x"):
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
