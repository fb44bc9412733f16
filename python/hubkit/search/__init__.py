"""Vector search: exact top-k as an op, and approximate indexes (IVF-Flat, HNSW).

* `hubkit.ops.topk_similarity` (`hubkit.search.ops`): exact top-k by inner
  product or cosine, backends reference | cpp | triton.
* `hubkit.search.index`: `FlatIndex`, `IVFFlatIndex`, `HNSWIndex`, one interface
  (add with ids, remove by tombstone, search, save / load); their pieces in
  `kmeans`, `ivf` and `hnsw` (readable references, C++ fast paths in csrc/search).
* The application on top: `embed` (sentence embeddings), `chunking`, `store`
  (SQLite + memory-mapped vectors), `cli` (`hubkit search`), `evaluate`, `adapters`.

Shape legend: Q queries, N stored vectors (keys), D dimensions, k results.
"""
