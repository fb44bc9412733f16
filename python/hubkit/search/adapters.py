"""hubkit's vectors in a real vector database: sqlite-vec, embedded (a file, no server).

Why sqlite-vec (of chromadb, LanceDB and sqlite-vec): hubkit's store already
keeps its documents in SQLite, and sqlite-vec is an SQLite extension: its
`vec0` virtual table lives in the same kind of file, is queried with SQL that
can JOIN the documents table, and opens anywhere SQLite does (Python, the
`sqlite3` shell, Go, Rust, the browser through WASM). It is one small wheel with
no server and no dependencies, where chromadb pulls a server stack and LanceDB
an Arrow one. Its KNN is exact (brute force over the rows), the same answers as
`hubkit.ops.topk_similarity`, which is what the test checks.

`SqliteVecIndex` follows hubkit's index interface (`add(vectors, ids)`,
`remove(ids)`, `search(queries, k) -> (scores, ids)`, `len()`), so it can stand
where a `FlatIndex` does. `export_store(store, path)` copies a hubkit store's
live vectors into one, keyed by vector row (`Store.hits` turns rows into chunks).

Loading an extension needs an sqlite3 module built with extension loading;
some Python builds (pyenv's default, macOS's system Python) leave it out. Then
the drop-in sqlean.py (`pip install sqlean.py`) is used, as sqlite-vec's own
documentation suggests.

Example:
    >>> import numpy as np, tempfile
    >>> index = SqliteVecIndex(tempfile.mkdtemp() + "/v.db", dim=2)
    >>> index.add(np.array([[1, 0], [0, 1]], np.float32), np.array([10, 20]))
    >>> index.search(np.array([[0.9, 0.1]], np.float32), k=1)[1]
    array([[10]])
"""

from __future__ import annotations

import os
import sqlite3

import numpy as np

METRICS = {"cosine": "cosine", "l2": "L2"}


def connect(path: str | os.PathLike):
    """An SQLite connection with sqlite-vec loaded (stdlib sqlite3, else sqlean.py)."""
    try:
        import sqlite_vec
    except ImportError:
        raise ImportError("the sqlite-vec adapter needs sqlite-vec: "
                          "pip install 'hubkit-learn[search]'", name="sqlite_vec") from None
    db = sqlite3.connect(str(path))
    if not hasattr(db, "enable_load_extension"):  # this Python's sqlite3 cannot load extensions
        db.close()
        try:
            import sqlean
        except ImportError:
            raise ImportError("this Python's sqlite3 cannot load extensions; the sqlite-vec "
                              "adapter then needs sqlean.py: pip install sqlean.py",
                              name="sqlean") from None
        db = sqlean.connect(str(path))
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    return db


class SqliteVecIndex:
    """A sqlite-vec `vec0` table used as a vector index; exact k-nearest-neighbour search.

    Args:
        path: the database file (created if missing; ":memory:" works too).
        dim: vector size D.
        metric: "cosine" (scores = cosine similarity) or "l2" (scores = -L2 distance),
            so that higher is better in both, as in hubkit's indexes.
        table: the virtual table's name.
    """

    def __init__(self, path: str | os.PathLike, dim: int, metric: str = "cosine",
                 table: str = "vectors") -> None:
        if not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim must be a positive int, got {dim!r}")
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {tuple(METRICS)}, got {metric!r}")
        if not table.isidentifier():
            raise ValueError(f"table must be an identifier, got {table!r}")
        self.dim, self.metric, self.table = dim, metric, table
        self.db = connect(path)
        self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING vec0("
                        f"embedding float[{dim}] distance_metric={METRICS[metric]})")

    def _vectors(self, name: str, x) -> np.ndarray:
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"{name} must have shape (N, {self.dim}), got {x.shape}")
        return x

    def add(self, vectors, ids) -> None:
        """Insert (N, D) vectors under (N,) int64 ids (an id already present is an error)."""
        vectors = self._vectors("vectors", vectors)
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) != len(vectors):
            raise ValueError(f"ids must have one id per vector ({len(vectors)}), got {len(ids)}")
        with self.db:
            self.db.executemany(f"INSERT INTO {self.table}(rowid, embedding) VALUES (?, ?)",
                                [(int(i), v.tobytes()) for i, v in zip(ids, vectors, strict=True)])

    def remove(self, ids) -> None:
        """Delete vectors by id (unknown ids are ignored)."""
        with self.db:
            self.db.executemany(f"DELETE FROM {self.table} WHERE rowid = ?",
                                [(int(i),) for i in np.asarray(ids).reshape(-1)])

    def __len__(self) -> int:
        return self.db.execute(f"SELECT COUNT(*) FROM {self.table}").fetchone()[0]

    def search(self, queries, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(Q, D) queries -> scores (Q, k) float32 and ids (Q, k) int64; -1 where fewer exist."""
        queries = self._vectors("queries", queries)
        if not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        scores = np.full((len(queries), k), -np.inf, np.float32)
        ids = np.full((len(queries), k), -1, np.int64)
        sql = (f"SELECT rowid, distance FROM {self.table} WHERE embedding MATCH ? AND k = ? "
               "ORDER BY distance")
        for qi, q in enumerate(queries):
            for j, (rowid, dist) in enumerate(self.db.execute(sql, (q.tobytes(), k))):
                ids[qi, j] = rowid
                scores[qi, j] = 1.0 - dist if self.metric == "cosine" else -dist
        return scores, ids

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> SqliteVecIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def export_store(store, path: str | os.PathLike, table: str = "vectors") -> SqliteVecIndex:
    """Copy a hubkit Store's live vectors into a sqlite-vec table at `path`, ids = vector rows."""
    if store.metric != "cosine":
        raise ValueError(f"store metric {store.metric!r} has no sqlite-vec equivalent; "
                         "export a cosine store (unit vectors: the same ranking)")
    index = SqliteVecIndex(path, store.dim, "cosine", table)
    rows = store.live_rows()
    index.add(np.asarray(store.vectors()[rows]), rows)
    return index
