"""A document store for semantic search: SQLite for text, a memory-mapped file for vectors.

Layout of a store folder:

    store.sqlite        documents, chunks (text, line span, vector row) and meta, WAL mode
    vectors-<G>.f32     float32 rows, (rows, D) row-major, memory-mapped for search

Crash safety (a writer killed at any instant loses nothing it committed and
shows nothing half-written). A batch is written in two steps:

1. its vectors are appended to the vector file, which is then fsync'ed;
2. one SQLite transaction records the batch's documents and chunks, each
   chunk pointing at its vector row, and the new committed row count.

SQLite's own journal makes step 2 all or nothing. A crash after 1 leaves rows
past the committed count: readers never look past it, and the next writer
truncates them before appending. Deleting a document deletes its rows in
SQLite only; the vector rows become dead space that `compact()` reclaims by
writing a new generation file and switching to it in one transaction.

Writers take an exclusive lock (`writer.lock`, flock) for a whole batch, so two
processes adding at once queue instead of interleaving their vector appends;
readers take no lock. A killed writer's lock is released by the OS.
Vectors are stored as given: search uses the store's metric ("cosine" or "ip").

Example:
    >>> import tempfile, numpy as np
    >>> from hubkit.search.chunking import Chunk
    >>> store = Store(tempfile.mkdtemp(), dim=3)
    >>> doc = NewDocument("a.txt", [Chunk("hello", 1, 1)], np.ones((1, 3), np.float32))
    >>> store.add([doc])
    >>> len(store), store.vectors().shape
    (1, (1, 3))
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hubkit.search.chunking import Chunk

DB_FILE = "store.sqlite"
LOCK_FILE = "writer.lock"
METRICS = ("cosine", "ip")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL, sha256 TEXT NOT NULL, metadata TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY, doc_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    row INTEGER NOT NULL UNIQUE, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
    page INTEGER, kind TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
"""


@dataclass
class NewDocument:
    """One document to add: its chunks and one vector per chunk.

    Args:
        path: the document's key (e.g. a path relative to the indexed folder).
        chunks: its chunks, N of them.
        vectors: (N, D) float32, row i embeds chunks[i].
        mtime_ns, size, sha256: what the file looked like (for re-indexing only what changed).
        metadata: any JSON-serializable dict.
    """

    path: str
    chunks: Sequence[Chunk]
    vectors: np.ndarray
    mtime_ns: int = 0
    size: int = 0
    sha256: str = ""
    metadata: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Hit:
    """A search result: the score, the chunk and the document path it came from."""

    score: float
    path: str
    chunk: Chunk
    row: int

    @property
    def citation(self) -> str:
        return self.chunk.citation(self.path)


@dataclass(frozen=True)
class DocumentInfo:
    """What the store knows of a document's file (to tell whether it changed)."""

    mtime_ns: int
    size: int
    sha256: str
    chunks: int


def _fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename durable (its directory entry)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Store:
    """Documents, chunks and vectors on disk, crash-safe (see the module docstring).

    Args:
        path: the store's folder (created if missing).
        dim: vector size D; required for a new store, checked against an existing one.
        metric: "cosine" or "ip", fixed when the store is created.
        model: a label for the embedding model, recorded for the reader.
    """

    def __init__(self, path: str | os.PathLike, dim: int | None = None, metric: str = "cosine",
                 model: str = "") -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path / DB_FILE, isolation_level=None)
        # subtle: WAL + synchronous=FULL: a COMMIT is on disk when it returns, and a
        # killed writer's open transaction is rolled back at the next open.
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.executescript(_SCHEMA)
        self._init_meta(dim, metric, model)

    # ------------------------------------------------------------------ meta

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _set_meta(self, key: str, value) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def info(self, key: str) -> str | None:
        """A value stored with `set_info` (e.g. the folder that was indexed), or None."""
        return self._meta(f"info.{key}")

    def set_info(self, key: str, value: str) -> None:
        """Store a string beside the data (committed at once)."""
        with self._transaction():
            self._set_meta(f"info.{key}", value)

    def _init_meta(self, dim: int | None, metric: str, model: str) -> None:
        stored = self._meta("dim")
        if stored is None:
            if not isinstance(dim, int) or dim < 1:
                raise ValueError(f"dim must be a positive int for a new store, got {dim!r}")
            if metric not in METRICS:
                raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
            with self._transaction():
                for key, value in (("dim", dim), ("metric", metric), ("model", model),
                                   ("rows", 0), ("vector_file", "vectors-0.f32")):
                    self._set_meta(key, value)
        elif dim is not None and int(stored) != dim:
            raise ValueError(f"dim={dim} does not match the store at {self.path} "
                             f"(dim={stored})")
        self.dim, self.metric = int(self._meta("dim")), self._meta("metric")
        self.model = self._meta("model")

    @property
    def rows(self) -> int:
        """Vector rows committed (live or dead)."""
        return int(self._meta("rows"))

    @property
    def vector_path(self) -> Path:
        return self.path / self._meta("vector_file")

    def _remove_stale_files(self) -> None:
        """Vector files of other generations (a compaction that crashed, or finished).

        Only a writer calls this (compact): a reader must not delete a file that a
        compaction in another process is still writing.
        """
        current = self.vector_path.name
        for p in self.path.glob("vectors-*.f32"):
            if p.name != current:
                p.unlink()

    def _transaction(self):
        return _Transaction(self.db)

    @contextlib.contextmanager
    def _writing(self):
        """Hold the store's writer lock (blocks while another process writes)."""
        with open(self.path / LOCK_FILE, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    # ------------------------------------------------------------------ writing

    def _append_vectors(self, vectors: np.ndarray) -> int:
        """Step 1: the rows after the committed ones, on disk (fsync). Returns the first row."""
        first = self.rows
        row_bytes = self.dim * 4
        with open(self.vector_path, "ab") as f:
            f.truncate(first * row_bytes)  # drop rows a crashed writer left uncommitted
            f.seek(first * row_bytes)
            f.write(np.ascontiguousarray(vectors, dtype=np.float32).tobytes())
            f.flush()
            os.fsync(f.fileno())
        if first == 0:
            _fsync_dir(self.path)
        return first

    def _record(self, docs: Sequence[NewDocument], first_row: int) -> None:
        """Step 2, inside the open transaction: documents, chunks and the new row count."""
        row = first_row
        for doc in docs:
            self._delete_path(doc.path)
            cur = self.db.execute(
                "INSERT INTO documents (path, mtime_ns, size, sha256, metadata) "
                "VALUES (?, ?, ?, ?, ?)", (doc.path, doc.mtime_ns, doc.size, doc.sha256,
                                           json.dumps(doc.metadata)))
            self.db.executemany(
                "INSERT INTO chunks (doc_id, row, start_line, end_line, page, kind, text) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(cur.lastrowid, row + i, c.start_line, c.end_line, c.page, c.kind, c.text)
                 for i, c in enumerate(doc.chunks)])
            row += len(doc.chunks)
        self._set_meta("rows", row)

    def add(self, docs: Sequence[NewDocument]) -> None:
        """Add (or replace, by path) documents: one batch, visible all at once or not at all."""
        docs = list(docs)
        for doc in docs:
            self._check_document(doc)
        if len({d.path for d in docs}) != len(docs):
            raise ValueError("docs must have distinct paths within one batch")
        if not docs:
            return
        vectors = np.concatenate([np.asarray(d.vectors, np.float32) for d in docs])
        with self._writing():
            first = self._append_vectors(vectors)
            with self._transaction():
                self._record(docs, first)

    def _check_document(self, doc: NewDocument) -> None:
        v = np.asarray(doc.vectors)
        if v.ndim != 2 or v.shape != (len(doc.chunks), self.dim):
            raise ValueError(f"vectors of {doc.path!r} must have shape ({len(doc.chunks)}, "
                             f"{self.dim}) (one row per chunk), got {tuple(v.shape)}")
        if not np.isfinite(v).all():
            raise ValueError(f"vectors of {doc.path!r} contain NaN or Inf")

    def _delete_path(self, path: str) -> int:
        cur = self.db.execute("DELETE FROM documents WHERE path = ?", (path,))
        return cur.rowcount

    def delete(self, paths: Sequence[str]) -> int:
        """Delete documents by path (their chunks with them); returns how many existed."""
        with self._transaction():
            return sum(self._delete_path(p) for p in paths)

    def update_file_info(self, path: str, mtime_ns: int, size: int) -> None:
        """Record a new mtime/size for a document whose content did not change."""
        with self._transaction():
            self.db.execute("UPDATE documents SET mtime_ns = ?, size = ? WHERE path = ?",
                            (mtime_ns, size, path))

    def compact(self) -> int:
        """Rewrite the vector file without dead rows; returns how many rows were dropped."""
        with self._writing():
            return self._compact()

    def _compact(self) -> int:
        live = self.live_rows()
        dropped = self.rows - len(live)
        self._remove_stale_files()
        if dropped == 0:
            return 0
        generation = int(self.vector_path.stem.split("-")[1]) + 1
        new_path = self.path / f"vectors-{generation}.f32"
        with open(new_path, "wb") as f:
            f.write(np.ascontiguousarray(self.vectors()[live]).tobytes())
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(self.path)
        with self._transaction():
            # subtle: two passes so no two chunks hold the same row mid-update (UNIQUE)
            self.db.execute("UPDATE chunks SET row = -1 - row")
            self.db.executemany("UPDATE chunks SET row = ? WHERE row = ?",
                                [(new, -1 - int(old)) for new, old in enumerate(live)])
            self._set_meta("rows", len(live))
            self._set_meta("vector_file", new_path.name)
        self._remove_stale_files()
        return dropped

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        """Live chunks."""
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def vectors(self) -> np.ndarray:
        """(rows, D) float32, memory-mapped read-only (dead rows included)."""
        rows = self.rows
        if rows == 0:
            return np.empty((0, self.dim), np.float32)
        return np.memmap(self.vector_path, np.float32, mode="r", shape=(rows, self.dim))

    def live_rows(self) -> np.ndarray:
        """(N,) int64: the vector rows that belong to a live chunk, ascending."""
        found = self.db.execute("SELECT row FROM chunks ORDER BY row").fetchall()
        return np.array([r[0] for r in found], dtype=np.int64)

    def documents(self) -> dict[str, DocumentInfo]:
        """Every document's path -> what its file looked like when it was added."""
        found = self.db.execute(
            "SELECT path, mtime_ns, size, sha256, (SELECT COUNT(*) FROM chunks "
            "WHERE doc_id = documents.id) FROM documents").fetchall()
        return {p: DocumentInfo(m, s, h, n) for p, m, s, h, n in found}

    def hits(self, rows: Sequence[int], scores: Sequence[float]) -> list[Hit]:
        """The chunks stored at vector `rows`, as Hits with the given scores."""
        out = []
        for row, score in zip(rows, scores, strict=True):
            found = self.db.execute(
                "SELECT d.path, c.text, c.start_line, c.end_line, c.kind, c.page FROM chunks c "
                "JOIN documents d ON d.id = c.doc_id WHERE c.row = ?", (int(row),)).fetchone()
            if found is not None:
                path, text, start, end, kind, page = found
                out.append(Hit(float(score), path, Chunk(text, start, end, kind, page), int(row)))
        return out

    def search(self, queries: np.ndarray, k: int = 5) -> list[list[Hit]]:
        """Exact top-k over the live chunks for each of the (Q, D) queries."""
        import torch

        from hubkit.search.ops import topk_similarity

        queries = np.array(queries, np.float32, ndmin=2)  # a writable copy for torch
        if queries.shape[1:] != (self.dim,):
            raise ValueError(f"queries must have shape (Q, {self.dim}), got {queries.shape}")
        live = self.live_rows()
        if len(live) == 0 or k < 1:
            return [[] for _ in queries]
        keys = torch.from_numpy(np.ascontiguousarray(self.vectors()[live]))  # (N, D)
        scores, idx = topk_similarity(torch.from_numpy(queries), keys, min(k, len(live)),
                                      metric=self.metric)
        return [self.hits(live[i.numpy()], s.tolist())
                for s, i in zip(scores, idx, strict=True)]

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raised."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *exc) -> None:
        self.db.execute("ROLLBACK" if kind is not None else "COMMIT")
