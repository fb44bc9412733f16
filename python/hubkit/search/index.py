"""Vector indexes with one interface: FlatIndex (exact), IVFFlatIndex and HNSWIndex.

Every index stores float32 vectors under caller-chosen int64 ids:

    index.add(vectors (n, D), ids (n,))    tensors or ndarrays; an id already stored is an error
    index.remove(ids) -> int               tombstones: the rows stay, search skips them
    index.search(queries (Q, D), k)        -> scores (Q, k) float32, ids (Q, k) int64 tensors,
                                              best first; score -inf and id -1 where fewer
                                              than k vectors are found
    len(index)                             live vectors
    index.save(path); Class.load(path)     one .npz file, written atomically

metric "cosine" normalizes vectors and queries once (x / max(|x|, 1e-12)), then
everything is an inner product; metric "ip" uses the raw inner product.

Example:
    >>> import torch
    >>> index = FlatIndex(2)
    >>> index.add(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), torch.tensor([10, 11, 12]))
    >>> index.remove([12])
    1
    >>> scores, ids = index.search(torch.tensor([[2.0, 0.1]]), k=3)
    >>> ids
    tensor([[10, 11, -1]])
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import torch

from hubkit import _ext
from hubkit.search import hnsw, ivf
from hubkit.search.kmeans import kmeans, nearest_centroids
from hubkit.search.ops import topk_similarity
from hubkit.search.reference import METRICS, NORM_EPS

FORMAT = 1  # bumped when the saved layout changes


def _matrix(name: str, x, dim: int) -> np.ndarray:
    """A tensor / ndarray (n, dim) as a float32 C-contiguous ndarray (a copy)."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"{name}: expected shape (n, {dim}), got {tuple(x.shape)}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"{name}: expected a float array, got dtype {x.dtype}")
    out = np.array(x, dtype=np.float32, order="C")
    if not np.isfinite(out).all():
        raise ValueError(f"{name}: contains NaN or infinite values")
    return out


def _id_array(name: str, ids, n: int | None = None) -> np.ndarray:
    """ids as a unique (n,) int64 ndarray."""
    if isinstance(ids, torch.Tensor):
        ids = ids.detach().cpu().numpy()
    ids = np.asarray(ids)
    if ids.ndim != 1 or (n is not None and len(ids) != n):
        raise ValueError(f"{name}: expected shape ({n if n is not None else 'n'},), "
                         f"got {tuple(ids.shape)}")
    if len(ids) and not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{name}: expected integers, got dtype {ids.dtype}")
    ids = ids.astype(np.int64)
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"{name}: contains repeated ids")
    return ids


class _Rows:
    """A growable (n, D) float32 array: appends copy only when the capacity doubles."""

    def __init__(self, dim: int, data: np.ndarray | None = None):
        self.data = np.empty((16, dim), np.float32) if data is None else data.copy()
        self.n = 0 if data is None else len(data)

    def append(self, x: np.ndarray) -> None:
        if self.n + len(x) > len(self.data):
            grown = np.empty((max(2 * len(self.data), self.n + len(x)), self.data.shape[1]),
                             np.float32)
            grown[:self.n] = self.data[:self.n]
            self.data = grown
        self.data[self.n:self.n + len(x)] = x
        self.n += len(x)

    @property
    def array(self) -> np.ndarray:
        return self.data[:self.n]


class _Index:
    """What every index shares: ids by row, tombstones, input checks, save / load."""

    def __init__(self, dim: int, metric: str):
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise ValueError(f"dim: expected an int >= 1, got {dim!r}")
        if metric not in METRICS:
            raise ValueError(f"metric: expected one of {METRICS}, got {metric!r}")
        self.dim, self.metric = dim, metric
        self._ids = np.empty(0, np.int64)   # (R,) id of each row, in insertion order
        self._alive = np.empty(0, bool)     # (R,) False once removed
        self._row_of: dict[int, int] = {}   # live id -> row

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, id_: int) -> bool:
        return int(id_) in self._row_of

    def _prepare(self, name: str, x) -> np.ndarray:
        x = _matrix(name, x, self.dim)
        if self.metric == "cosine":
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), NORM_EPS)
        return x

    def add(self, vectors, ids) -> None:
        """Store (n, D) vectors under (n,) int64 ids (ValueError for an id already stored)."""
        x = self._prepare("vectors", vectors)
        ids = _id_array("ids", ids, len(x))
        taken = [int(i) for i in ids if int(i) in self._row_of]
        if taken:
            raise ValueError(f"ids: {taken[:5]} already stored; remove them first")
        first = len(self._ids)
        self._add_rows(x)
        self._ids = np.concatenate([self._ids, ids])
        self._alive = np.concatenate([self._alive, np.ones(len(ids), bool)])
        self._row_of.update(zip(ids.tolist(), range(first, first + len(ids)), strict=True))

    def remove(self, ids) -> int:
        """Tombstone the stored vectors with these ids; returns how many were stored."""
        rows = [self._row_of.pop(int(i)) for i in _id_array("ids", ids) if int(i) in self._row_of]
        self._alive[rows] = False
        return len(rows)

    def search(self, queries, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The k best live vectors per query: scores (Q, k) float32, ids (Q, k) int64."""
        q = self._prepare("queries", queries)
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k: expected an int >= 1, got {k!r}")
        if len(self) == 0:
            return torch.full((len(q), k), float("-inf")), torch.full((len(q), k), -1)
        scores, rows = self._search_rows(q, k)
        ids = np.where(rows >= 0, self._ids[np.maximum(rows, 0)], -1)
        return torch.from_numpy(np.ascontiguousarray(scores)), torch.from_numpy(ids)

    # -- persistence ---------------------------------------------------------------------

    def _config(self) -> dict:
        return {"dim": self.dim, "metric": self.metric}

    def save(self, path) -> None:
        """Write the index to one .npz file (written beside it, then renamed into place)."""
        path = Path(path)
        arrays = {"ids": self._ids, "alive": self._alive, **self._state()}
        meta = {"format": FORMAT, "kind": type(self).__name__, "config": self._config()}
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path, **options):
        """The index saved at `path` (ValueError if it holds another kind of index).

        `options` are passed to the constructor over the saved ones (HNSWIndex's backend).
        """
        with np.load(Path(path), allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
        meta = json.loads(str(arrays.pop("meta")))
        if meta["kind"] != cls.__name__ or meta["format"] != FORMAT:
            raise ValueError(f"path: holds a {meta['kind']} (format {meta['format']}), "
                             f"not a {cls.__name__} (format {FORMAT})")
        index = cls(**{**meta["config"], **options})
        index._ids, index._alive = arrays.pop("ids"), arrays.pop("alive")
        index._row_of = {int(i): r for r, i in enumerate(index._ids.tolist())
                         if index._alive[r]}
        index._load_state(arrays)
        return index


class FlatIndex(_Index):
    """Exact search: every query scored against every live vector (`topk_similarity`).

    Args:
        dim: D.
        metric: "cosine" (default) or "ip".
    """

    def __init__(self, dim: int, metric: str = "cosine"):
        super().__init__(dim, metric)
        self._vectors = _Rows(dim)

    def _add_rows(self, x: np.ndarray) -> None:
        self._vectors.append(x)

    def _search_rows(self, q: np.ndarray, k: int):
        # subtle: removed rows still sit among the keys; asking for k + (number removed)
        # guarantees k live ones survive the filter.
        keys = self._vectors.array
        wanted = min(k + int((~self._alive).sum()), len(keys))
        scores, rows = topk_similarity(torch.from_numpy(q), torch.from_numpy(keys), wanted)
        scores, rows = scores.numpy(), rows.numpy()
        live = self._alive[rows]
        order = np.argsort(~live, axis=1, kind="stable")[:, :k]  # live first, order kept
        scores = np.take_along_axis(scores, order, 1)
        rows = np.take_along_axis(rows, order, 1)
        keep = np.take_along_axis(live, order, 1)
        return _pad(np.where(keep, scores, -np.inf), np.where(keep, rows, -1), k)

    def _state(self) -> dict:
        return {"vectors": self._vectors.array}

    def _load_state(self, arrays) -> None:
        self._vectors = _Rows(self.dim, arrays["vectors"])


def _pad(scores: np.ndarray, rows: np.ndarray, k: int):
    """(Q, m) -> (Q, k) with -inf / -1 columns appended when m < k."""
    missing = k - scores.shape[1]
    if missing > 0:
        scores = np.pad(scores, ((0, 0), (0, missing)), constant_values=-np.inf)
        rows = np.pad(rows, ((0, 0), (0, missing)), constant_values=-1)
    return scores.astype(np.float32), rows.astype(np.int64)


class IVFFlatIndex(_Index):
    """Inverted lists over k-means centroids; a query searches its nprobe nearest lists.

    Args:
        dim: D.
        nlist: number of lists (k-means clusters); `train` needs at least nlist vectors.
        nprobe: lists searched per query (settable later; nlist makes it exact).
        metric: "cosine" (default) or "ip".
        train_iters: k-means iterations in `train`.
        seed: seeds k-means.
        backend: "cpp" (the list scan in C++, default when built) or "reference"
            (`hubkit.search.ivf.search_lists`, torch).
    """

    def __init__(self, dim: int, nlist: int, nprobe: int = 8, metric: str = "cosine",
                 train_iters: int = 10, seed: int = 0, backend: str | None = None):
        super().__init__(dim, metric)
        if isinstance(nlist, bool) or not isinstance(nlist, int) or nlist < 1:
            raise ValueError(f"nlist: expected an int >= 1, got {nlist!r}")
        self.backend = _pick("IVFFlatIndex", backend, hasattr(_ext.cpp_module(), "ivf_scan"))
        self.nlist, self.nprobe, self.train_iters, self.seed = nlist, nprobe, train_iters, seed
        self.centroids: torch.Tensor | None = None
        self._lists = [(_Rows(dim), np.empty(0, np.int64)) for _ in range(nlist)]

    @property
    def is_trained(self) -> bool:
        return self.centroids is not None

    def train(self, vectors) -> None:
        """Learn the nlist centroids from (n, D) vectors, n >= nlist (k-means)."""
        x = self._prepare("vectors", vectors)
        if len(x) < self.nlist:
            raise ValueError(f"vectors: training {self.nlist} lists needs at least "
                             f"{self.nlist} vectors, got {len(x)}")
        self.centroids = kmeans(torch.from_numpy(x), self.nlist, self.train_iters, self.seed)

    def _add_rows(self, x: np.ndarray) -> None:
        if not self.is_trained:
            raise ValueError("vectors: the IVFFlatIndex is not trained; call train(vectors) "
                             "before add")
        first = len(self._ids)
        lists = nearest_centroids(torch.from_numpy(x), self.centroids)[:, 0].numpy()
        for c in np.unique(lists).tolist():
            members = np.flatnonzero(lists == c)
            store, rows = self._lists[c]
            store.append(x[members])
            self._lists[c] = (store, np.concatenate([rows, first + members]))

    def _search_rows(self, q: np.ndarray, k: int):
        if not isinstance(self.nprobe, int) or not 1 <= self.nprobe <= self.nlist:
            raise ValueError(f"nprobe: expected an int in [1, {self.nlist}], got {self.nprobe!r}")
        queries = torch.from_numpy(q)
        probes = nearest_centroids(queries, self.centroids, self.nprobe)
        if self.backend == "cpp":
            lists = [(store.array, rows) for store, rows in self._lists]
            return ivf.search_lists_cpp(q, probes.numpy(), lists, k, self._alive)
        lists = [(torch.from_numpy(store.array), rows) for store, rows in self._lists]
        return ivf.search_lists(queries, probes, lists, k, self._alive)

    def _config(self) -> dict:
        return {**super()._config(), "nlist": self.nlist, "nprobe": self.nprobe,
                "train_iters": self.train_iters, "seed": self.seed}

    def _state(self) -> dict:
        sizes = np.array([len(rows) for _, rows in self._lists], np.int64)
        state = {"list_sizes": sizes,
                 "list_rows": np.concatenate([rows for _, rows in self._lists]),
                 "list_vectors": np.concatenate([s.array for s, _ in self._lists])}
        if self.is_trained:
            state["centroids"] = self.centroids.numpy()
        return state

    def _load_state(self, arrays) -> None:
        if "centroids" in arrays:
            self.centroids = torch.from_numpy(arrays["centroids"])
        ends = np.cumsum(arrays["list_sizes"])
        starts = ends - arrays["list_sizes"]
        self._lists = [(_Rows(self.dim, arrays["list_vectors"][a:b]), arrays["list_rows"][a:b])
                       for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def _pick(kind: str, backend: str | None, cpp_built: bool) -> str:
    """The backend an index runs: the one asked for, else cpp when built, else reference."""
    if backend is None:
        return "cpp" if cpp_built else "reference"
    if backend not in ("cpp", "reference"):
        raise ValueError(f"backend: expected 'cpp' or 'reference', got {backend!r}")
    if backend == "cpp" and not cpp_built:
        raise ValueError(f"backend: 'cpp' asked for, but hubkit._C is not built here (or lacks "
                         f"the {kind} core); use backend='reference'")
    return backend


def _hnsw_cpp_built() -> bool:
    return hasattr(_ext.cpp_module(), "HNSWCore")


def _hnsw_graph(dim: int, M: int, ef_construction: int, backend: str):
    """The graph the index builds: the C++ core (fast path) or the Python reference."""
    if backend == "cpp":
        return _ext.cpp_module().HNSWCore(dim, M, ef_construction)
    return hnsw.HNSWGraph(dim, M, ef_construction)


class HNSWIndex(_Index):
    """A hierarchical navigable small-world graph (hubkit.search.hnsw).

    Args:
        dim: D.
        M: links per node (2M on the bottom layer).
        ef_construction: candidates kept while inserting (higher: better graph, slower add).
        ef_search: candidates kept while searching (settable; raise it for recall).
        metric: "cosine" (default) or "ip".
        seed: seeds the nodes' random layers.
        backend: "cpp" (the C++ graph, default when built) or "reference" (Python).
    """

    def __init__(self, dim: int, M: int = 16, ef_construction: int = 200, ef_search: int = 64,
                 metric: str = "cosine", seed: int = 0, backend: str | None = None):
        super().__init__(dim, metric)
        for name, v in (("M", M), ("ef_construction", ef_construction), ("ef_search", ef_search)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (2 if name == "M" else 1):
                raise ValueError(f"{name}: expected an int >= {2 if name == 'M' else 1}, "
                                 f"got {v!r}")
        backend = _pick("HNSWIndex", backend, _hnsw_cpp_built())
        self.M, self.ef_construction, self.ef_search = M, ef_construction, ef_search
        self.seed, self.backend = seed, backend
        self._rng = np.random.default_rng(seed)
        self._graph = _hnsw_graph(dim, M, ef_construction, backend)

    def _add_rows(self, x: np.ndarray) -> None:
        self._graph.add(x, hnsw.draw_levels(len(x), self.M, self._rng))

    def _search_rows(self, q: np.ndarray, k: int):
        if isinstance(self.ef_search, bool) or not isinstance(self.ef_search, int) \
                or self.ef_search < 1:
            raise ValueError(f"ef_search: expected an int >= 1, got {self.ef_search!r}")
        return self._graph.search_batch(q, k, self.ef_search, self._alive)

    def _config(self) -> dict:
        return {**super()._config(), "M": self.M, "ef_construction": self.ef_construction,
                "ef_search": self.ef_search, "seed": self.seed}

    def _state(self) -> dict:
        # subtle: the rng's state is saved too, so a loaded index draws the same layers
        # for its next vectors as the original would have.
        rng = np.array(json.dumps(self._rng.bit_generator.state))
        return {**self._graph.to_arrays(), "rng": rng}

    def _load_state(self, arrays) -> None:
        self._rng.bit_generator.state = json.loads(str(arrays.pop("rng")))
        graph_cls = type(self._graph)
        self._graph = graph_cls.from_arrays(arrays, self.M, self.ef_construction)
