"""Byte-level BPE, readable: the spec that the C++ backend must match merge for merge.

Byte-pair encoding (Sennrich et al. 2016, https://arxiv.org/abs/1508.07909) as
GPT-2 uses it on bytes (Radford et al. 2019): text is split into chunks by a
regex (words, numbers, punctuation, spaces), each chunk becomes its UTF-8
bytes (ids 0..255), and training repeatedly replaces the most frequent
adjacent pair of ids with a new id (256, 257, ...). Merges never cross a
chunk boundary, so the pattern is applied BEFORE merging.

Tie rule (documented, deterministic): among pairs with the same count, the
pair that is smallest as an (id_a, id_b) tuple wins. rustbpe uses the same
rule, so both learn the same merges from the same text and pattern.

Pair counts include overlapping pairs: the chunk "aaa" counts (a, a) twice,
while merging it gives [aa, a] (left to right, non-overlapping).

Shape legend: N chunks, V vocabulary size.

Example:
    >>> counts = chunk_counts("aab aab", GPT2_PATTERN)  # "aab", " aab"
    >>> merges = train_merges(counts, 2)  # (a, a) and (a, b) tie at 2: (97, 97) wins
    >>> merges
    [(97, 97), (256, 98)]
    >>> encode_chunk(b"aab", {p: i for i, p in enumerate(merges)})
    [257]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

# GPT-2's split pattern (openai/gpt-2, encoder.py): contractions, letters, numbers,
# other symbols, each with an optional leading space; trailing whitespace on its own.
GPT2_PATTERN = (r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
# GPT-4's (cl100k_base): case-insensitive contractions, numbers in groups of at most
# three digits, newlines kept apart from other whitespace.
GPT4_PATTERN = (r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}|"""
                r""" ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+""")
PATTERNS = {"gpt2": GPT2_PATTERN, "gpt4": GPT4_PATTERN}

Pair = tuple[int, int]


def compile_pattern(pattern: str):
    """The compiled split pattern (the `regex` module: \\p{L} and possessive quantifiers)."""
    try:
        import regex  # imported here so that the slice imports light
    except ImportError as err:
        raise ImportError("hubkit.tokenizers needs the `regex` package: `pip install regex` "
                          "(or `pip install 'hubkit-learn[llm]'`)") from err
    return regex.compile(pattern)


def split_chunks(text: str, pattern: str) -> list[str]:
    """The chunks of `text` that BPE merges within; their concatenation is `text`."""
    return compile_pattern(pattern).findall(text)


def chunk_counts(text: str, pattern: str) -> Counter[bytes]:
    """How often each chunk occurs, as UTF-8 bytes: training only needs unique chunks."""
    return Counter(chunk.encode("utf-8") for chunk in split_chunks(text, pattern))


def pair_counts(words: Iterable[list[int]], freqs: Iterable[int]) -> Counter[Pair]:
    """Count every adjacent pair (overlapping ones too), each word weighted by its frequency."""
    counts: Counter[Pair] = Counter()
    for ids, freq in zip(words, freqs, strict=True):
        for pair in zip(ids, ids[1:], strict=False):
            counts[pair] += freq
    return counts


def best_pair(counts: Counter[Pair]) -> Pair:
    """The most frequent pair; on equal counts the smallest (id_a, id_b) (the tie rule)."""
    # subtle: max() alone would pick whichever tied pair was counted first, which
    # depends on the order of the text; the explicit key makes the result depend
    # only on the counts.
    return max(counts, key=lambda p: (counts[p], -p[0], -p[1]))


def merge(ids: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace each occurrence of `pair` in `ids`, left to right, by `new_id`."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_merges(counts: dict[bytes, int], num_merges: int) -> list[Pair]:
    """Learn up to `num_merges` merges from chunk counts (fewer if no pair is left).

    Merge i creates id 256 + i. This version recounts every pair after every
    merge: O(num_merges x total chunk length). The C++ backend updates the
    counts of the affected chunks only and keeps a priority queue.
    """
    words = [list(chunk) for chunk in counts]
    freqs = list(counts.values())
    merges: list[Pair] = []
    for step in range(num_merges):
        stats = pair_counts(words, freqs)
        if not stats:
            break
        pair = best_pair(stats)
        merges.append(pair)
        words = [merge(ids, pair, 256 + step) for ids in words]
    return merges


def encode_chunk(chunk: bytes, ranks: dict[Pair, int]) -> list[int]:
    """Token ids of one chunk: apply the lowest-ranked mergeable pair until none is left.

    `ranks` maps a merged pair to its merge index (so its id is 256 + rank).
    """
    ids = list(chunk)
    while len(ids) >= 2:
        pair = min(zip(ids, ids[1:], strict=False), key=lambda p: ranks.get(p, float("inf")))
        if pair not in ranks:
            break
        ids = merge(ids, pair, 256 + ranks[pair])
    return ids


def vocab_bytes(merges: list[Pair]) -> list[bytes]:
    """The bytes of every id: 256 single bytes, then one entry per merge. (V,)"""
    vocab = [bytes([b]) for b in range(256)]
    for a, b in merges:
        vocab.append(vocab[a] + vocab[b])
    return vocab
