"""`hubkit search`: index a folder of documents, then ask it questions in plain words.

    hubkit search index DIR [--db PATH]      embed .txt .md .py .pdf files under DIR
    hubkit search query "TEXT" [-k 5] [--db PATH]

`index` writes its store into DIR/.hubkit-search/ unless --db names another
folder, and prints what it wrote. Run it again after editing files: a file whose
size and mtime are unchanged is skipped, one whose content hash is unchanged only
has its mtime updated, a changed file is re-chunked and re-embedded, a deleted
file is removed. `query` finds the store from --db, else from the current folder
or the nearest parent holding a .hubkit-search/ folder, and prints each hit's
cosine score and `file:line` citation (relative to the current folder).

Chunking: hubkit.search.chunking; embeddings: hubkit.search.embed (MiniLM);
storage: hubkit.search.store.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hubkit import runlog
from hubkit.search.chunking import SUFFIXES, load_chunks

DB_FOLDER = ".hubkit-search"
FILES_PER_BATCH = 16  # one store transaction per batch: a crash loses at most this many


class SearchError(Exception):
    """A mistake the user can fix (no store, not a folder): one line, exit status 2."""


@dataclass
class IndexReport:
    """What one `index` run did."""

    db: Path
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    skipped: list[str] = field(default_factory=list)
    chunks: int = 0


def scan(root: Path) -> dict[str, Path]:
    """Every indexable file under `root` (hidden folders skipped), keyed by POSIX relative path."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            path = Path(folder) / name
            if path.suffix.lower() in SUFFIXES and not name.startswith("."):
                found[path.relative_to(root).as_posix()] = path
    return found


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan(store, files: dict[str, Path]) -> tuple[list[str], list[str], list[str]]:
    """(to embed, content unchanged but touched, removed) by mtime+size, then by hash."""
    known = store.documents()
    embed, touched = [], []
    for rel, path in files.items():
        st, old = path.stat(), known.get(rel)
        if old is not None and (old.mtime_ns, old.size) == (st.st_mtime_ns, st.st_size):
            continue
        if old is not None and old.sha256 == file_sha256(path):
            touched.append(rel)
        else:
            embed.append(rel)
    return embed, touched, sorted(set(known) - set(files))


def _read(rel: str, path: Path):
    """A NewDocument with its chunks and file info; vectors are filled in by `_embed`."""
    import numpy as np

    from hubkit.search.store import NewDocument

    st = path.stat()
    return NewDocument(rel, load_chunks(path), np.empty((0, 0), np.float32), st.st_mtime_ns,
                       st.st_size, file_sha256(path))


def _embed(docs: list, embedder) -> None:
    """Every chunk of `docs` embedded in one call (batches span files), then split per doc."""
    import numpy as np

    texts = [c.text for d in docs for c in d.chunks]
    vectors = (embedder.encode(texts).numpy() if texts
               else np.zeros((0, embedder.dim), np.float32))     # (sum of chunks, D)
    sizes = [len(d.chunks) for d in docs]
    for doc, end, size in zip(docs, np.cumsum(sizes, dtype=int), sizes, strict=True):
        doc.vectors = vectors[end - size:end]


def _embed_files(store, files: dict[str, Path], todo: list[str], embedder, report,
                 quiet: bool) -> None:
    """Chunk, embed and store `todo` in batches of FILES_PER_BATCH, with a progress line."""
    known = set(store.documents())
    with runlog.Progress(len(todo), "index", enabled=not quiet) as bar:
        for start in range(0, len(todo), FILES_PER_BATCH):
            docs = []
            for rel in todo[start:start + FILES_PER_BATCH]:
                try:
                    docs.append(_read(rel, files[rel]))
                except (OSError, ValueError) as err:  # unreadable file, broken PDF
                    report.skipped.append(rel)
                    bar.log(f"skipped {rel}: {err}")
                    bar.update()
            _embed(docs, embedder)
            store.add(docs)
            for doc in docs:
                (report.updated if doc.path in known else report.added).append(doc.path)
                report.chunks += len(doc.chunks)
                bar.update(chunks=report.chunks)


def open_store(db: Path, dim: int | None = None, model: str = ""):
    from hubkit.search.store import Store

    return Store(db, dim=dim, model=model)


def index_folder(root: str | os.PathLike, db: str | os.PathLike | None = None, *,
                 embedder=None, quiet: bool = False) -> IndexReport:
    """Index (or re-index what changed in) the files under `root` into the store `db`.

    Args:
        root: the folder to index.
        db: the store's folder (default: root/.hubkit-search).
        embedder: a SentenceEmbedder (default: MiniLM, loaded only if a file needs embedding).
        quiet: no progress line.
    """
    root = Path(root)
    if not root.is_dir():
        raise SearchError(f"DIR must be a folder, got {str(root)!r}")
    db = Path(db) if db is not None else root / DB_FOLDER
    files = scan(root)
    report = IndexReport(db)
    store = open_store(db) if (db / "store.sqlite").exists() else None
    todo, touched, removed = plan(store, files) if store else (sorted(files), [], [])
    if todo:
        embedder = embedder or _default_embedder()
        store = store or open_store(db, dim=embedder.dim, model=embedder.name)
        _embed_files(store, files, todo, embedder, report, quiet)
    if store is None:
        raise SearchError(f"no {', '.join(SUFFIXES)} files under {root}: nothing to index")
    with store:
        for rel in touched:
            st = files[rel].stat()
            store.update_file_info(rel, st.st_mtime_ns, st.st_size)
        store.delete(removed)
        report.removed = removed
        if store.rows > 2 * max(len(store), 1):  # mostly dead rows: reclaim the space
            store.compact()
        store.set_info("root", str(root.resolve()))
    report.unchanged = len(files) - len(todo)
    return report


def _default_embedder():
    from hubkit.search.embed import SentenceEmbedder

    return SentenceEmbedder()


def find_db(start: Path) -> Path | None:
    """The nearest `.hubkit-search` store at or above `start`."""
    for folder in [start, *start.parents]:
        if (folder / DB_FOLDER / "store.sqlite").is_file():
            return folder / DB_FOLDER
    return None


def query(db: str | os.PathLike, text: str, k: int = 5, *, embedder=None) -> list:
    """The k chunks closest in meaning to `text`: a list of store Hits, best first."""
    if not isinstance(k, int) or k < 1:
        raise SearchError(f"-k must be a positive int, got {k!r}")
    if not (Path(db) / "store.sqlite").is_file():
        raise SearchError(f"no search store at {db}: run `hubkit search index DIR` first")
    with open_store(Path(db)) as store:
        embedder = embedder or _default_embedder()
        return store.search(embedder.encode([text]).numpy(), k)[0]


# ------------------------------------------------------------------ command line

def _index_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", type=Path, metavar="DIR", help="The folder to index.")
    p.add_argument("--db", type=Path, default=None,
                   help=f"The store's folder (default: DIR/{DB_FOLDER}).")
    p.add_argument("--quiet", action="store_true", help="No progress line.")


def _query_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("text", metavar="TEXT", help="What to look for, in plain words.")
    p.add_argument("-k", type=int, default=5, help="How many results (default: 5).")
    p.add_argument("--db", type=Path, default=None,
                   help=f"The store's folder (default: the nearest {DB_FOLDER}/ at or above "
                   "the current folder).")


INDEX_HELP = "Index (or re-index what changed in) the .txt .md .py .pdf files under DIR."
QUERY_HELP = "The chunks closest in meaning to TEXT, with scores and file:line citations."


def add_commands(sub, add) -> None:
    """Register `search index` and `search query` on the `hubkit` sub-parsers (`add`: cli._add).

    Light: argparse only, so `hubkit --help` imports no torch.
    """
    head, _, rest = __doc__.partition("\n\n")
    p = add(sub, "search", lambda a: (p.print_help(), 2)[1], "Semantic search: index a "
            "folder, then query it.", epilog=rest,
            formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(title="search commands", metavar="ACTION")
    _index_arguments(add(actions, "index", cmd_index, INDEX_HELP))
    _query_arguments(add(actions, "query", cmd_query, QUERY_HELP))


def _print_index(report: IndexReport) -> None:
    print(f"indexed: {len(report.added)} added, {len(report.updated)} updated, "
          f"{len(report.removed)} removed, {report.unchanged} unchanged"
          + (f", {len(report.skipped)} unreadable" if report.skipped else "")
          + f" ({report.chunks} chunks embedded)")
    outputs = runlog.Outputs(report.db, "search")
    outputs.add(sorted(p for p in report.db.iterdir() if p.is_file() and p.suffix != ".lock"))
    outputs.report()
    print(f'next: hubkit search query "..." --db {report.db}' if report.db.name != DB_FOLDER
          else 'next: hubkit search query "..." (from inside the indexed folder)')


def _print_hits(hits: Sequence, root: str | None) -> None:
    if not hits:
        print("no results: the store is empty")
    for n, hit in enumerate(hits, 1):
        path = os.path.relpath(Path(root) / hit.path) if root else hit.path
        first = next((ln.strip() for ln in hit.chunk.text.splitlines() if ln.strip()), "")
        print(f"{n}. {hit.score:.3f}  {hit.chunk.citation(path)}\n   {first[:100]}")


def _guarded(run) -> int:
    """Run one action; a user's mistake or a missing package is one line, not a traceback."""
    try:
        with runlog.quiet_third_party():
            run()
        return 0
    except SearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (ImportError, RuntimeError) as err:  # a missing optional package (or the weights)
        if "pip install" not in str(err):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 1


def cmd_index(args) -> int:
    """Index (or re-index what changed in) the files under DIR."""
    return _guarded(lambda: _print_index(index_folder(args.directory, args.db,
                                                      quiet=args.quiet)))


def cmd_query(args) -> int:
    """Print the chunks closest in meaning to TEXT, with scores and file:line citations."""
    def run() -> None:
        db = args.db or find_db(Path.cwd())
        if db is None:
            raise SearchError(f"no {DB_FOLDER}/ here or above: run `hubkit search index DIR` "
                              "first, or pass --db")
        hits = query(db, args.text, args.k)
        with open_store(Path(db)) as store:
            _print_hits(hits, store.info("root"))

    return _guarded(run)
