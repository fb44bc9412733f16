"""Training texts and diagnostics shared by the bpe_python and bpe_cpp exercises.

`cases(ctx)` draws the graded texts; `explain(...)` says why a learner's merges
differ from the reference's at the first difference: a tie broken by another
rule, a pair that crosses the split pattern's chunks, bytes read as signed
chars, or a wrong count.
"""

from __future__ import annotations

import torch

from hubkit.tokenizers import reference

UNSEEN = "héllo wörld 世界 🤖 naïve — ok"


def pydoc_window(ctx, size: int) -> str:
    """A random window of Python's own documentation (pydoc_data.topics), seeded by ctx."""
    import pydoc_data.topics as topics

    text = "".join(topics.topics.values())
    start = int(torch.randint(0, len(text) - size, (), generator=ctx.gen))
    return text[start:start + size]


def cases(ctx, size: int) -> list[tuple[str, str, int, str]]:
    """(name, text, vocab_size, pattern name) for the training checks; size: pydoc chars."""
    return [("tie", "ba ab", 260, "gpt4"),
            ("pydoc gpt4", pydoc_window(ctx, size), 300 if ctx.fast else 400, "gpt4"),
            ("pydoc gpt2", pydoc_window(ctx, size), 290, "gpt2"),
            ("unicode", (UNSEEN + " 12345 it's ") * 20, 300, "gpt4"),
            ("repeats", "aaaa aaa aa abab ababab " * 30 + "x" * 100, 280, "gpt2")]


def _state(counts: dict[bytes, int], merges: list) -> dict:
    """Pair counts after applying `merges` to the chunks (the reference's view)."""
    words, freqs = [list(c) for c in counts], list(counts.values())
    for i, pair in enumerate(merges):
        words = [reference.merge(w, pair, 256 + i) for w in words]
    return reference.pair_counts(words, freqs)


def explain(counts: dict[bytes, int], got: list, want: list, learner_splits: bool = True) -> str:
    """Why merges `got` differ from `want`, both learned from chunk `counts`.

    learner_splits: the learner split the text itself (bpe_python); else it was
    handed the chunks (bpe_cpp), so a pair that occurs nowhere means stale counts.
    """
    n = min(len(got), len(want))
    k = next((i for i, (g, w) in enumerate(zip(got, want, strict=False)) if g != w), n)
    if k == n:
        return (f"you learned {len(got)} merges, expected {len(want)}: stop only when no pair "
                "is left, or after vocab_size - 256 merges")
    state = _state(counts, want[:k])
    g, w = got[k], want[k]
    if any(i < 0 for i in g):
        return (f"merge {k}: you merged {g}: a negative id means a byte >= 128 was read as a "
                "signed char; convert through unsigned char")
    if g not in state and not learner_splits:
        return (f"merge {k}: you merged {g}, which no longer occurs in any word (expected {w}): "
                "its count is stale; after each merge, update the counts of the pairs around "
                "every merged position")
    if g not in state:
        return (f"merge {k}: you merged {g}, a pair that never occurs inside one chunk of the "
                f"split pattern (expected {w}): split the text with the pattern first and count "
                "pairs within chunks; merges never cross a chunk")
    if state[g] == state[w]:
        return (f"merge {k}: you merged {g}, expected {w}; both occur {state[w]} times: on "
                "a tie merge the smallest (id_a, id_b) pair, not the first one counted")
    return (f"merge {k}: you merged {g} (it occurs {state[g]} times), expected {w} "
            f"({state[w]} times): count every adjacent pair of every chunk, weighted by how "
            "often the chunk occurs, and keep the counts of the neighbours of each merge "
            "up to date")
