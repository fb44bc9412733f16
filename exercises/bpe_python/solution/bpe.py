"""Byte-level BPE in plain Python: train merges on text, then encode text with them.

Ids 0..255 are the bytes; merge i creates id 256 + i. Text is first split into
chunks by a regex `pattern` (use the `regex` module: the GPT patterns need
\\p{L}); merges never cross a chunk.
"""

import regex


def pair_counts(words: list[list[int]], freqs: list[int]) -> dict[tuple[int, int], int]:
    """Count every adjacent pair in every word (overlapping pairs too), weighted by freq."""
    # BEGIN SOLUTION
    # starter> # Step 1: for ids, f in zip(words, freqs): for each pair in zip(ids, ids[1:]),
    # starter> # add f to its count.
    # starter> raise NotImplementedError("not implemented yet")
    counts: dict[tuple[int, int], int] = {}
    for ids, freq in zip(words, freqs, strict=True):
        for pair in zip(ids, ids[1:], strict=False):
            counts[pair] = counts.get(pair, 0) + freq
    return counts
    # END SOLUTION


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace each occurrence of `pair` in `ids`, left to right, by `new_id`."""
    # BEGIN SOLUTION
    # starter> # Step 2: walk i over ids; where (ids[i], ids[i + 1]) == pair, emit new_id and
    # starter> # skip two, else emit ids[i] and skip one.
    # starter> raise NotImplementedError("not implemented yet")
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
    # END SOLUTION


def train(text: str, vocab_size: int, pattern: str) -> list[tuple[int, int]]:
    """The merges, in order: vocab_size - 256 of them, or fewer if no pair is left.

    Each step merges the most frequent pair; on equal counts, the smallest
    (id_a, id_b) pair.
    """
    # BEGIN SOLUTION
    # starter> # Step 3: split text with regex.findall(pattern, text); count each chunk's
    # starter> # UTF-8 bytes once (a dict chunk -> count); then repeat: pair_counts, pick the
    # starter> # best pair (count first, then the smallest pair), merge it in every word.
    # starter> raise NotImplementedError("not implemented yet")
    chunks: dict[bytes, int] = {}
    for chunk in regex.findall(pattern, text):
        key = chunk.encode("utf-8")
        chunks[key] = chunks.get(key, 0) + 1
    words, freqs = [list(c) for c in chunks], list(chunks.values())
    merges = []
    for step in range(vocab_size - 256):
        counts = pair_counts(words, freqs)
        if not counts:
            break
        pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
        merges.append(pair)
        words = [merge(ids, pair, 256 + step) for ids in words]
    return merges
    # END SOLUTION


def encode(text: str, merges: list[tuple[int, int]], pattern: str) -> list[int]:
    """Token ids of `text`: per chunk, its bytes, then merges applied in training order."""
    # BEGIN SOLUTION
    # starter> # Step 4: ranks = {pair: i}; for each chunk's bytes, repeatedly merge the
    # starter> # adjacent pair with the lowest rank until no adjacent pair has a rank.
    # starter> raise NotImplementedError("not implemented yet")
    ranks = {tuple(pair): i for i, pair in enumerate(merges)}
    out: list[int] = []
    for chunk in regex.findall(pattern, text):
        ids = list(chunk.encode("utf-8"))
        while len(ids) >= 2:
            pair = min(zip(ids, ids[1:], strict=False), key=lambda p: ranks.get(p, len(ranks)))
            if pair not in ranks:
                break
            ids = merge(ids, pair, 256 + ranks[pair])
        out.extend(ids)
    return out
    # END SOLUTION
