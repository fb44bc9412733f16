"""How good is the search? Retrieval quality on hubkit's own docs, and approximate-index recall.

Two measurements on documents that ship with hubkit (its exercise READMEs,
chunked by hubkit.search.chunking and embedded with MiniLM):

1. Retrieval: the labelled queries in `queries.toml` (written by hand, each
   naming the README(s) that answer it, graded 2 or 1) are searched; the chunk
   ranking is collapsed to a document ranking (a document ranks where its best
   chunk does), then scored with MRR (1 / rank of the first relevant document)
   and nDCG@k (graded gains 2^rel - 1, discounted by log2(rank + 1), divided by
   the ideal ordering's). Exact search, IVF-Flat and HNSW are each scored.
2. Recall@k of each approximate index against exact search (|approx top-k ∩
   exact top-k| / k, averaged), with every chunk and every labelled query as a
   query, over a sweep of nprobe (IVF) and ef_search (HNSW). The corpus for
   this adds hubkit's own Python sources (chunked by function and class) to the
   READMEs, so the indexes have a few thousand vectors to get wrong.

Writes report.md (the tables), results.json (every number), per_query.jsonl
(each query's ranked documents) and metrics.jsonl (runlog) under --out.

    python -m hubkit.search.evaluate --out runs/search-eval
"""

from __future__ import annotations

import importlib.resources
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomllib

from hubkit import runlog
from hubkit.search.chunking import load_chunks

QUERIES = Path(__file__).with_name("queries.toml")
K = 10                      # nDCG@K, recall@K
CHUNKS_SEARCHED = 100       # chunks fetched per query before collapsing to documents
NPROBES = (1, 2, 4, 8, 16)
EF_SEARCHES = (10, 16, 32, 64, 128)


@dataclass(frozen=True)
class LabelledQuery:
    """A query and the documents that answer it: path -> grade (2 answers it, 1 related)."""

    text: str
    relevant: dict[str, int]


def load_queries(path: str | Path = QUERIES) -> list[LabelledQuery]:
    with open(path, "rb") as f:
        rows = tomllib.load(f)["query"]
    return [LabelledQuery(r["text"], {k: int(v) for k, v in r["relevant"].items()})
            for r in rows]


def package_folder(name: str) -> Path:
    """A folder shipped in the hubkit package (installed), else in the source tree."""
    shipped = importlib.resources.files("hubkit").joinpath(name)
    if shipped.is_dir():
        return Path(str(shipped))
    source = Path(__file__).resolve().parents[3] / name
    if not source.is_dir():
        raise FileNotFoundError(f"no {name} folder in the hubkit package or its source tree")
    return source


def readme_files(root: Path) -> dict[str, Path]:
    """The exercises folder's README.md and every exercise's, keyed by path under `root`."""
    files = sorted([root / "README.md", *root.glob("*/README.md")])
    return {p.relative_to(root).as_posix(): p for p in files if p.is_file()}


def source_files(package: Path) -> dict[str, Path]:
    """hubkit's own Python modules (no exercises, no kernels), keyed by path under hubkit/."""
    return {p.relative_to(package).as_posix(): p for p in sorted(package.rglob("*.py"))
            if "__pycache__" not in p.parts and p.parts[-2] not in ("exercises", "kernels")}


# ------------------------------------------------------------------ metrics

def ranked_documents(rows: Sequence[int], row_document: Sequence[str]) -> list[str]:
    """Chunk rows, best first -> documents, each where its best chunk ranks (rows < 0 skipped)."""
    seen: dict[str, None] = {}
    for r in rows:
        if r >= 0:
            seen.setdefault(row_document[r], None)
    return list(seen)


def reciprocal_rank(ranked: Sequence[str], relevant: dict[str, int]) -> float:
    """1 / the rank of the first relevant document (0 if none is ranked)."""
    return next((1.0 / i for i, d in enumerate(ranked, 1) if d in relevant), 0.0)


def ndcg(ranked: Sequence[str], relevant: dict[str, int], k: int = K) -> float:
    """nDCG@k with gains 2^grade - 1 (Järvelin & Kekäläinen, 2002).

    Example:
        >>> round(ndcg(["a", "b"], {"b": 2}, k=2), 4)  # (3 / log2 3) / (3 / log2 2)
        0.6309
    """
    def dcg(grades):
        return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(grades[:k]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(d, 0) for d in ranked]) / ideal if ideal > 0 else 0.0


def recall_at_k(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean over queries of |approx top-k ∩ exact top-k| / k; both (Q, k) ids (-1 = none)."""
    hits = [len(set(a[a >= 0].tolist()) & set(e.tolist()))
            for a, e in zip(approx, exact, strict=True)]
    return float(np.mean(hits) / exact.shape[1])


# ------------------------------------------------------------------ corpus

@dataclass
class Corpus:
    """Chunks of some files, embedded: (N, D) vectors, and each row's document."""

    vectors: np.ndarray
    row_document: list[str]


def embed_files(files: dict[str, Path], embedder, progress: bool, desc: str) -> Corpus:
    texts, owners = [], []
    for rel, path in files.items():
        for chunk in load_chunks(path):
            texts.append(chunk.text)
            owners.append(rel)
    vectors = embedder.encode(texts, progress=progress, desc=desc).numpy()
    return Corpus(vectors, owners)


def build_indexes(vectors: np.ndarray, nlist: int) -> dict:
    """Exact, IVF-Flat and HNSW indexes over `vectors` (ids = rows)."""
    from hubkit.search.index import FlatIndex, HNSWIndex, IVFFlatIndex

    ids = np.arange(len(vectors))
    flat, hnsw = FlatIndex(vectors.shape[1]), HNSWIndex(vectors.shape[1], M=16)
    ivf = IVFFlatIndex(vectors.shape[1], nlist=nlist, nprobe=1)
    ivf.train(vectors)
    for index in (flat, ivf, hnsw):
        index.add(vectors, ids)
    return {"exact": flat, "ivf": ivf, "hnsw": hnsw}


def _settings(indexes: dict):
    """(name, setting label, index configured) for every point of the sweep."""
    yield "exact", "", indexes["exact"]
    for nprobe in NPROBES:
        if nprobe <= indexes["ivf"].nlist:
            indexes["ivf"].nprobe = nprobe
            yield "ivf", f"nprobe={nprobe}", indexes["ivf"]
    for ef in EF_SEARCHES:
        indexes["hnsw"].ef_search = ef
        yield "hnsw", f"ef_search={ef}", indexes["hnsw"]


# ------------------------------------------------------------------ the two measurements

def retrieval(index, query_vectors: np.ndarray, queries: list[LabelledQuery],
              row_document: list[str]) -> dict:
    """MRR and nDCG@K of one index on the labelled queries, with each query's ranking."""
    k = min(CHUNKS_SEARCHED, len(index))
    _, rows = index.search(query_vectors, k)                  # (Q, k) chunk rows
    ranked = [ranked_documents(r.tolist(), row_document) for r in rows]
    rr = [reciprocal_rank(d, q.relevant) for d, q in zip(ranked, queries, strict=True)]
    gains = [ndcg(d, q.relevant) for d, q in zip(ranked, queries, strict=True)]
    rows = zip(queries, ranked, rr, gains, strict=True)
    return {"mrr": float(np.mean(rr)), f"ndcg@{K}": float(np.mean(gains)),
            "top1": float(np.mean([r == 1.0 for r in rr])),
            "per_query": [{"query": q.text, "ranked": d[:5], "reciprocal_rank": r,
                           f"ndcg@{K}": g} for q, d, r, g in rows]}


def ann_recall(index, queries: np.ndarray, exact_ids: np.ndarray) -> dict:
    """recall@K of `index` against the exact ids, and its search time per query."""
    start = time.perf_counter()
    _, ids = index.search(queries, K)
    seconds = time.perf_counter() - start
    return {f"recall@{K}": recall_at_k(ids.numpy(), exact_ids),
            "ms_per_query": 1000 * seconds / len(queries)}


def _nlist(n: int) -> int:
    return max(4, int(2 * math.sqrt(n)))  # faiss's rule of thumb is 4-16 sqrt(N); small N here


def evaluate(embedder, queries: list[LabelledQuery], progress: runlog.Progress | None,
             with_sources: bool = True, quiet: bool = False) -> dict:
    """Both measurements (see the module docstring); every number in one dict."""
    exercises = package_folder("exercises")
    readmes = readme_files(exercises)
    present = [q for q in queries if set(q.relevant) & set(readmes)]
    docs = embed_files(readmes, embedder, not quiet, "embed readmes")
    qv = embedder.encode([q.text for q in present]).numpy()
    out = {"corpus": {"documents": len(readmes), "chunks": len(docs.row_document)},
           "queries": {"labelled": len(queries), "scored": len(present),
                       "left_out": [q.text for q in queries if q not in present]},
           "retrieval": {}, "recall": {}}
    indexes = build_indexes(docs.vectors, _nlist(len(docs.vectors)))
    for name, setting, index in _settings(indexes):
        out["retrieval"][f"{name} {setting}".strip()] = retrieval(index, qv, present,
                                                                  docs.row_document)
        if progress is not None:
            progress.update(0, **{f"{name}/mrr": out["retrieval"][f"{name} {setting}".strip()]
                                  ["mrr"]})
    big = docs
    if with_sources:
        package = Path(__file__).resolve().parents[1]  # hubkit/
        extra = embed_files(source_files(package), embedder, not quiet, "embed sources")
        big = Corpus(np.concatenate([docs.vectors, extra.vectors]),
                     docs.row_document + extra.row_document)
    out["recall_corpus"] = {"chunks": len(big.row_document), "with_sources": with_sources}
    out["recall"] = recall_sweep(big.vectors, np.concatenate([big.vectors, qv]), progress)
    return out


def recall_sweep(vectors: np.ndarray, queries: np.ndarray,
                 progress: runlog.Progress | None) -> dict:
    """recall@K and ms/query of each (index, setting) against exact search."""
    indexes = build_indexes(vectors, _nlist(len(vectors)))
    _, exact = indexes["exact"].search(queries, K)
    found = {"nlist": indexes["ivf"].nlist, "hnsw_M": indexes["hnsw"].M,
             "hnsw_backend": indexes["hnsw"].backend, "queries": len(queries)}
    for name, setting, index in _settings(indexes):
        row = ann_recall(index, queries, exact.numpy())
        found[f"{name} {setting}".strip()] = row
        if progress is not None:
            progress.update(1, **{f"{name}/recall@{K}": row[f"recall@{K}"]})
    return found


# ------------------------------------------------------------------ report and command line

def report_markdown(results: dict) -> str:
    """The two tables (retrieval quality; recall and time per query) as Markdown."""
    c, q, rc = results["corpus"], results["queries"], results["recall"]
    lines = [f"# Semantic search on hubkit's docs (MiniLM, {c['documents']} READMEs, "
             f"{c['chunks']} chunks)", "",
             f"{q['scored']} labelled queries scored ({q['labelled'] - q['scored']} left out: "
             "their documents are not shipped yet). Documents rank where their best chunk "
             f"ranks ({CHUNKS_SEARCHED} chunks fetched per query).", "",
             f"| index | MRR | nDCG@{K} | top-1 |", "| --- | --- | --- | --- |"]
    for name, row in results["retrieval"].items():
        lines.append(f"| {name} | {row['mrr']:.3f} | {row[f'ndcg@{K}']:.3f} | "
                     f"{row['top1']:.3f} |")
    lines += ["", f"## recall@{K} against exact search", "",
              f"{results['recall_corpus']['chunks']} vectors (READMEs"
              + (" + hubkit's Python sources" if results["recall_corpus"]["with_sources"]
                 else "") + f"), {rc['queries']} queries (every vector and every labelled "
              f"query); IVF-Flat nlist={rc['nlist']}, HNSW M={rc['hnsw_M']} "
              f"({rc['hnsw_backend']}). Times are single runs on a shared machine "
              f"(load {results['loadavg']}): a rough guide only.", "",
              f"| index | recall@{K} | ms / query |", "| --- | --- | --- |"]
    for name, row in rc.items():
        if isinstance(row, dict):
            lines.append(f"| {name} | {row[f'recall@{K}']:.4f} | {row['ms_per_query']:.3f} |")
    return "\n".join(lines) + "\n"


def _parser():
    p = runlog.parser("python -m hubkit.search.evaluate", __doc__, "search-eval")
    p.add_argument("--queries", type=Path, default=QUERIES,
                   help="labelled queries, TOML (default: the shipped queries.toml)")
    p.add_argument("--no-sources", action="store_true",
                   help="recall on the READMEs only (skip embedding hubkit's Python sources)")
    return p


def main(argv: list[str] | None = None) -> dict:
    """Command line: embed, search, score, write report.md and results.json under --out."""
    from hubkit.search.embed import SentenceEmbedder

    args = _parser().parse_args(argv)
    outputs = runlog.Outputs(args.out, args._run_name)
    queries = load_queries(args.queries)
    with runlog.quiet_third_party(), runlog.tracker(args, outputs) as track:
        track.config({"queries": str(args.queries), "k": K, "with_sources": not args.no_sources})
        embedder = SentenceEmbedder()
        sweep = 1 + len(NPROBES) + len(EF_SEARCHES)
        with runlog.Progress(sweep, "recall", enabled=not args.quiet, tracker=track) as bar:
            results = evaluate(embedder, queries, bar, not args.no_sources, args.quiet)
    results["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    results["model"] = embedder.name
    per_query = {name: row.pop("per_query") for name, row in results["retrieval"].items()}
    outputs.path("results.json").write_text(json.dumps(results, indent=1) + "\n")
    with outputs.path("per_query.jsonl").open("w") as f:
        f.writelines(json.dumps({"index": n, **r}) + "\n" for n, rows in per_query.items()
                     for r in rows)
    text = report_markdown(results)
    outputs.path("report.md").write_text(text)
    print(text)
    outputs.report()
    return results


if __name__ == "__main__":
    runlog.run_main(main)
