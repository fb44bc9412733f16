"""Retrieval for agents: chunks with ids, a TF-IDF index, a folder loader, recall@k.

Every index follows one small interface, so swapping it is one line
(`make_index(kind)`): `add(chunks)` and `search(query, k) -> list[Hit]`. The
default is TF-IDF with cosine similarity (sparse dicts, pure Python): instant,
enough for a few thousand chunks, and readable. `EmbeddingIndex` is dense
retrieval over hubkit's search slice (MiniLM sentence vectors in
`hubkit.search.index.FlatIndex`), for questions worded unlike the documents.

TF-IDF: a chunk's weight for term t is (1 + log tf) * idf(t), with
idf(t) = log((N + 1) / (df(t) + 1)) + 1, L2-normalised; the score is the dot
product with the query's vector. Rare words weigh more than common ones, which
is what makes "the", "of" and "is" harmless.

Example:
    >>> index = TfidfIndex()
    >>> index.add([Chunk("a#0", "The cat sat on the mat."), Chunk("b#0", "Dogs bark at night.")])
    >>> [h.id for h in index.search("where did the cat sit", 1)]
    ['a#0']
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

STOPWORDS = frozenset("""a an the of to in on at for by with and or but is are was were be been
it its this that these those as from what which who whom how when where why do does did
i you he she we they them his her their our your my me not no yes can could would should
will shall may might has have had there here then than so if into about over under""".split())
_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")


def words(text: str) -> list[str]:
    """Lower-case content words (stopwords removed)."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


@dataclass
class Chunk:
    """A passage to retrieve: `id` is what answers cite ("paper.pdf#3")."""

    id: str
    text: str
    source: str = ""


@dataclass
class Hit:
    """A retrieved chunk and its score."""

    id: str
    text: str
    source: str
    score: float


def chunk_text(text: str, source: str, max_words: int = 120) -> list[Chunk]:
    """Split `text` at blank lines, merging paragraphs up to `max_words` words; ids source#i."""
    chunks: list[Chunk] = []
    buf: list[str] = []
    for para in re.split(r"\n\s*\n", text):
        para = " ".join(para.split())
        if not para:
            continue
        if buf and len(" ".join(buf + [para]).split()) > max_words:
            chunks.append(Chunk(f"{source}#{len(chunks)}", " ".join(buf), source))
            buf = []
        buf.append(para)
    if buf:
        chunks.append(Chunk(f"{source}#{len(chunks)}", " ".join(buf), source))
    return chunks


def read_document(path: Path) -> str:
    """Text of a .txt/.md file, or of a PDF through pypdf (pages joined by blank lines)."""
    if path.suffix.lower() == ".pdf":
        try:
            from pypdf import PdfReader
        except ImportError:
            raise ImportError("reading PDFs needs pypdf: pip install 'hubkit-learn[search]'") \
                from None
        return "\n\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return path.read_text(encoding="utf-8", errors="replace")


def load_folder(folder: str | Path, max_words: int = 120,
                suffixes: tuple[str, ...] = (".txt", ".md", ".pdf")) -> list[Chunk]:
    """Chunks of every document under `folder` (ids use the path relative to it)."""
    folder = Path(folder)
    chunks: list[Chunk] = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in suffixes):
        chunks += chunk_text(read_document(path), str(path.relative_to(folder)), max_words)
    return chunks


class TfidfIndex:
    """A TF-IDF cosine index over chunks (module docstring); rebuilt lazily after `add`."""

    def __init__(self) -> None:
        self.chunks: list[Chunk] = []
        self._vectors: list[dict[str, float]] | None = None
        self._idf: dict[str, float] = {}

    def add(self, chunks: list[Chunk]) -> None:
        self.chunks.extend(chunks)
        self._vectors = None

    def _vector(self, terms: list[str]) -> dict[str, float]:
        counts = Counter(t for t in terms if t in self._idf)
        vec = {t: (1 + math.log(c)) * self._idf[t] for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    def _build(self) -> None:
        docs = [words(c.text) for c in self.chunks]
        df = Counter(t for d in docs for t in set(d))
        n = len(docs)
        self._idf = {t: math.log((n + 1) / (f + 1)) + 1 for t, f in df.items()}
        self._vectors = [self._vector(d) for d in docs]

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The `k` best chunks for `query`, best first (ties: earlier chunk first)."""
        if self._vectors is None:
            self._build()
        q = self._vector(words(query))
        scores = [sum(w * vec.get(t, 0.0) for t, w in q.items()) for vec in self._vectors]
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:k]
        return [Hit(self.chunks[i].id, self.chunks[i].text, self.chunks[i].source, scores[i])
                for i in order if scores[i] > 0]


class EmbeddingIndex:
    """Dense retrieval over hubkit's search slice: MiniLM sentence vectors in a FlatIndex.

    Finds paraphrases that share no words with the query (TF-IDF cannot). Loading
    the encoder costs seconds, so it is built on first use.
    """

    def __init__(self, embedder=None) -> None:
        self.chunks: list[Chunk] = []
        self._embedder, self._index = embedder, None

    def add(self, chunks: list[Chunk]) -> None:
        from hubkit.search.embed import SentenceEmbedder
        from hubkit.search.index import FlatIndex

        self._embedder = self._embedder or SentenceEmbedder()
        if self._index is None:
            self._index = FlatIndex(self._embedder.dim, metric="cosine")
        vectors = self._embedder.encode([c.text for c in chunks])  # (N, C)
        self._index.add(vectors.numpy(), list(range(len(self.chunks),
                                                    len(self.chunks) + len(chunks))))
        self.chunks.extend(chunks)

    def search(self, query: str, k: int = 3) -> list[Hit]:
        if self._index is None or not self.chunks:
            return []
        scores, ids = self._index.search(self._embedder.encode([query]).numpy(), k)  # (1, k)
        return [Hit(self.chunks[i].id, self.chunks[i].text, self.chunks[i].source, float(s))
                for s, i in zip(scores[0].tolist(), ids[0].tolist(), strict=True) if i >= 0]


def make_index(kind: str = "tfidf"):
    """The index agents use: "tfidf" (default, instant) or "embedding" (hubkit.search, MiniLM)."""
    if kind == "tfidf":
        return TfidfIndex()
    if kind == "embedding":
        return EmbeddingIndex()
    raise ValueError(f"kind must be 'tfidf' or 'embedding', got {kind!r}")


def recall_at_k(retrieved: list[list[str]], relevant: list[set[str]], k: int) -> float:
    """Mean over queries of |relevant in the top k| / |relevant|.

    Example:
        >>> recall_at_k([["a", "b", "c"], ["x", "y"]], [{"b"}, {"z", "x"}], k=2)
        0.75
    """
    if len(retrieved) != len(relevant) or not relevant:
        raise ValueError("retrieved and relevant need one entry per query, at least one")
    hits = [len(set(r[:k]) & rel) / len(rel) for r, rel in zip(retrieved, relevant, strict=True)]
    return sum(hits) / len(relevant)
