"""HNSW, readable: a navigable small-world graph in layers, searched greedily.

Every vector is a node. A node gets a random top layer L (P(L >= l) = M^-l), and
links to up to M neighbours on each layer 1..L and up to 2M on layer 0. Search
starts at the entry point on the top layer, walks greedily to the node nearest
the query, drops a layer, and repeats; on layer 0 it runs a best-first search
that keeps the `ef` best nodes seen. Inserting runs the same search with
ef_construction and links the new node to neighbours chosen by a heuristic that
prefers spread-out neighbours (a candidate is skipped if it is closer to an
already chosen neighbour than to the new node).

Malkov, Yashunin, "Efficient and robust approximate nearest neighbor search using
Hierarchical Navigable Small World graphs", 2016 (arXiv:1603.09320): Algorithms 1, 2, 4.

Similarity is the inner product (the index normalizes for cosine). Deleted
nodes (tombstones) stay in the graph and are walked through, never returned.

The same graph as arrays (`to_arrays` / `from_arrays`), shared with the C++ core
(csrc/search/hnsw.cpp): levels (n,) int32, links0 (n, 2M) int32 and upper
(sum of levels, M) int32, -1 past each node's neighbours; node i's layers
1..levels[i] are rows upper_start[i] + 0 .. levels[i] - 1 of upper.

Shapes: D dims, n nodes, q a (D,) query.
"""

from __future__ import annotations

import heapq
import math

import numpy as np


def draw_levels(n: int, M: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) int32 top layers: floor(-ln(U) / ln(M)), so P(L >= l) = M^-l."""
    return np.floor(-np.log(1.0 - rng.random(n)) / math.log(M)).astype(np.int32)


class HNSWGraph:
    """The graph and its vectors; `insert` and `search` follow the paper.

    Args:
        dim: D.
        M: neighbours per node on layers >= 1 (2M on layer 0).
        ef_construction: candidates kept while inserting.

    Example:
        >>> g = HNSWGraph(2, M=4, ef_construction=8)
        >>> for i, v in enumerate(np.eye(2, dtype=np.float32)):
        ...     _ = g.insert(v, level=0)
        >>> g.search(np.array([0.0, 1.0], np.float32), k=1, ef=4)
        (array([1.], dtype=float32), array([1]))
    """

    def __init__(self, dim: int, M: int = 16, ef_construction: int = 200):
        self.M, self.ef_construction = M, ef_construction
        self._store = np.empty((16, dim), np.float32)  # capacity doubles as nodes arrive
        self.links: list[list[list[int]]] = []  # links[node][layer] -> neighbours
        self.entry, self.max_level = -1, -1

    @property
    def vectors(self) -> np.ndarray:
        """(n, D) the nodes' vectors."""
        return self._store[:len(self.links)]

    def max_links(self, layer: int) -> int:
        return 2 * self.M if layer == 0 else self.M

    def _sims(self, q: np.ndarray, nodes) -> np.ndarray:
        return self.vectors[nodes] @ q

    def search_layer(self, q, entries: list[int], ef: int, layer: int, alive=None):
        """Best-first search on one layer: up to ef (sim, node), best first (Algorithm 2).

        Dead nodes (alive[node] False) are walked through but never kept.
        """
        visited = set(entries)
        seen = list(zip(self._sims(q, entries).tolist(), entries, strict=True))
        cand = [(-s, n) for s, n in seen]                                # max-heap by similarity
        best = [(s, n) for s, n in seen if alive is None or alive[n]]   # min-heap: worst on top
        heapq.heapify(cand)
        heapq.heapify(best)
        while len(best) > ef:
            heapq.heappop(best)
        while cand:
            neg, c = heapq.heappop(cand)
            if len(best) >= ef and -neg < best[0][0]:
                break  # the best unexplored candidate is worse than everything kept
            fresh = [n for n in self.links[c][layer] if n not in visited]
            visited.update(fresh)
            for s, n in zip(self._sims(q, fresh).tolist(), fresh, strict=True):
                if len(best) < ef or s > best[0][0]:
                    heapq.heappush(cand, (-s, n))
                    if alive is None or alive[n]:
                        heapq.heappush(best, (s, n))
                        if len(best) > ef:
                            heapq.heappop(best)
        return sorted(best, key=lambda t: (-t[0], t[1]))

    def select_neighbors(self, candidates, m: int) -> list[int]:
        """Up to m of (sim, node) candidates, best first, skipping any candidate more
        similar to an already chosen neighbour than to the base (Algorithm 4)."""
        chosen: list[int] = []
        for s, n in candidates:
            if len(chosen) == m:
                break
            if not chosen or np.all(self._sims(self.vectors[n], chosen) <= s):
                chosen.append(n)
        return chosen

    def _link_back(self, node: int, neighbour: int, layer: int) -> None:
        """Add node to neighbour's list; over the limit, re-select the neighbour's list."""
        links = self.links[neighbour][layer]
        links.append(node)
        if len(links) > self.max_links(layer):
            sims = self._sims(self.vectors[neighbour], links)
            cands = sorted(zip(sims.tolist(), links, strict=True), key=lambda t: (-t[0], t[1]))
            self.links[neighbour][layer] = self.select_neighbors(cands, self.max_links(layer))

    def insert(self, vector: np.ndarray, level: int) -> int:
        """Add one (D,) vector whose top layer is `level`; returns its node number."""
        node = len(self.links)
        if node == len(self._store):
            self._store = np.concatenate([self._store, np.empty_like(self._store)])
        self._store[node] = vector
        self.links.append([[] for _ in range(level + 1)])
        if self.entry < 0:
            self.entry, self.max_level = node, level
            return node
        eps = [self.entry]
        for layer in range(self.max_level, level, -1):  # greedy descent (ef = 1)
            eps = [self.search_layer(vector, eps, 1, layer)[0][1]]
        for layer in range(min(level, self.max_level), -1, -1):
            cands = self.search_layer(vector, eps, self.ef_construction, layer)
            self.links[node][layer] = self.select_neighbors(cands, self.M)
            for n in self.links[node][layer]:
                self._link_back(node, n, layer)
            eps = [n for _, n in cands]
        if level > self.max_level:
            self.entry, self.max_level = node, level
        return node

    def search(self, q: np.ndarray, k: int, ef: int, alive=None):
        """The k most similar live nodes: (sims (<=k,) float32, nodes (<=k,) int64)."""
        if self.entry < 0:
            return np.empty(0, np.float32), np.empty(0, np.int64)
        eps = [self.entry]
        for layer in range(self.max_level, 0, -1):
            eps = [self.search_layer(q, eps, 1, layer)[0][1]]
        found = self.search_layer(q, eps, max(ef, k), 0, alive)[:k]
        return (np.array([s for s, _ in found], np.float32),
                np.array([n for _, n in found], np.int64))

    # -- the array form shared with the C++ core -------------------------------------

    def to_arrays(self) -> dict[str, np.ndarray]:
        """levels, links0, upper (see the module docstring), vectors, entry."""
        n, m = len(self.links), self.M
        levels = np.array([len(lk) - 1 for lk in self.links], np.int32)
        links0 = np.full((n, 2 * m), -1, np.int32)
        upper = np.full((int(levels.sum()), m), -1, np.int32)
        row = 0
        for i, lk in enumerate(self.links):
            links0[i, :len(lk[0])] = lk[0]
            for layer in lk[1:]:
                upper[row, :len(layer)] = layer
                row += 1
        return {"levels": levels, "links0": links0, "upper": upper, "vectors": self.vectors,
                "entry": np.array([self.entry, self.max_level], np.int64)}

    @classmethod
    def from_arrays(cls, arrays, M: int, ef_construction: int) -> HNSWGraph:
        g = cls(arrays["vectors"].shape[1], M, ef_construction)
        g._store = np.array(arrays["vectors"], np.float32).reshape(-1, g._store.shape[1])
        row = 0
        for i, level in enumerate(arrays["levels"].tolist()):
            layers = [arrays["links0"][i]] + list(arrays["upper"][row:row + level])
            row += level
            g.links.append([[int(x) for x in lk if x >= 0] for lk in layers])
        g.entry, g.max_level = (int(x) for x in arrays["entry"])
        return g

    # -- the batch interface the index calls (the C++ core has the same one) ----------

    def add(self, vectors: np.ndarray, levels: np.ndarray) -> None:
        """Insert (n, D) vectors with their (n,) top layers, in order."""
        for v, level in zip(vectors, levels.tolist(), strict=True):
            self.insert(v, level)

    def search_batch(self, queries: np.ndarray, k: int, ef: int, alive=None):
        """(Q, D) queries -> sims (Q, k) float32, nodes (Q, k) int64, -inf / -1 padded."""
        sims = np.full((len(queries), k), -np.inf, np.float32)
        nodes = np.full((len(queries), k), -1, np.int64)
        for i, q in enumerate(queries):
            s, n = self.search(q, k, ef, alive)
            sims[i, :len(s)], nodes[i, :len(n)] = s, n
        return sims, nodes
