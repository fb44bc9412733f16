"""Offline text corpora for language models: one loader for the char-LSTM and the GPT.

Nothing is downloaded. A corpus is named by `source`:

* "pydoc": Python's documentation topics (`pydoc_data.topics`, ~0.47 M characters
  of English and code), sorted by topic;
* "stdlib": the documentation topics, then every `.py` file of Python's standard
  library (its docstrings are the library's documentation) in path order, tests
  and site-packages left out: tens of MB of code and English;
* a folder: every text file under it (`*.txt`, `*.md`, `*.rst`, `*.py` by default),
  sorted by path: swap in your own text this way;
* a file: that UTF-8 file.

`load_documents` keeps the files apart (so a validation split can take whole
files); `load_corpus` joins them into one string.

Example:
    >>> docs = load_documents("pydoc", max_chars=1000)
    >>> sum(len(text) for _, text in docs) <= 1000, docs[0][0].startswith("pydoc:")
    (True, True)
"""

from __future__ import annotations

import sysconfig
from pathlib import Path

BUILTIN = ("pydoc", "stdlib")
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".py")
SEPARATOR = "\n\n"


def _pydoc_topics() -> list[tuple[str, str]]:
    import pydoc_data.topics

    topics = pydoc_data.topics.topics
    return [(f"pydoc:{k}", topics[k]) for k in sorted(topics)]


def stdlib_files() -> list[Path]:
    """The standard library's `.py` files, sorted, without tests and site-packages."""
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"site-packages", "dist-packages", "test", "tests", "idle_test", "__pycache__"}
    return sorted(p for p in root.rglob("*.py")
                  if not skip & set(p.relative_to(root).parts[:-1]))


def _folder_files(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in suffixes)
    if not files:
        raise ValueError(f"source: no {'/'.join(suffixes)} files under {folder}")
    return files


def _read(paths: list[Path], root: Path, budget: int | None) -> list[tuple[str, str]]:
    """(relative name, text) of each file, stopping once `budget` characters are read."""
    docs, total = [], 0
    for p in paths:
        if budget is not None and total >= budget:
            break
        text = p.read_text(encoding="utf-8", errors="replace")
        docs.append((str(p.relative_to(root)) if p != root else p.name, text))
        total += len(text)
    return docs


def _clip(docs: list[tuple[str, str]], max_chars: int | None) -> list[tuple[str, str]]:
    """The first `max_chars` characters of the documents, the last one cut short."""
    if max_chars is None:
        return docs
    out, left = [], max_chars
    for name, text in docs:
        if left <= 0:
            break
        out.append((name, text[:left]))
        left -= len(text)
    return out


def load_documents(source: str | Path | None = "pydoc", max_chars: int | None = None,
                   suffixes: tuple[str, ...] = TEXT_SUFFIXES) -> list[tuple[str, str]]:
    """The corpus named by `source` as (name, text) pairs, in a fixed order.

    Args:
        source: "pydoc", "stdlib", a folder or a UTF-8 file (None means "pydoc").
        max_chars: keep only the first this many characters (None: all).
        suffixes: which files of a folder are text.
    """
    if max_chars is not None and max_chars <= 0:
        raise ValueError(f"max_chars: expected a positive int or None, got {max_chars}")
    source = "pydoc" if source is None else source
    if source == "pydoc":
        return _clip(_pydoc_topics(), max_chars)
    if source == "stdlib":
        root = Path(sysconfig.get_paths()["stdlib"])
        docs = _pydoc_topics()
        budget = None if max_chars is None else max_chars - sum(len(t) for _, t in docs)
        return _clip(docs + _read(stdlib_files(), root, budget), max_chars)
    path = Path(source)
    if path.is_dir():
        return _clip(_read(_folder_files(path, suffixes), path, max_chars), max_chars)
    if path.is_file():
        return _clip(_read([path], path, None), max_chars)
    raise ValueError(f"source: expected {' or '.join(map(repr, BUILTIN))}, a folder or a "
                     f"file, got {str(source)!r} (no such file or folder)")


def load_corpus(source: str | Path | None = None, max_chars: int | None = None) -> str:
    """The corpus as one string, documents separated by a blank line (see `load_documents`)."""
    text = SEPARATOR.join(t for _, t in load_documents(source))
    return text[:max_chars] if max_chars else text


def split_documents(docs: list[tuple[str, str]], val_every: int = 20):
    """(train, validation): every `val_every`-th document is held out, whole.

    # subtle: whole files go to validation, so no validation window overlaps a
    # training one; a corpus of one document is cut at 1 - 1/val_every instead.
    """
    if val_every < 2:
        raise ValueError(f"val_every: expected an int >= 2, got {val_every}")
    if len(docs) < 2:
        text = SEPARATOR.join(t for _, t in docs)
        cut = len(text) - max(len(text) // val_every, 1)
        return [text[:cut]], [text[cut:]]
    held = {i for i in range(len(docs)) if i % val_every == val_every // 2} or {len(docs) - 1}
    train = [t for i, (_, t) in enumerate(docs) if i not in held]
    return train, [docs[i][1] for i in sorted(held)]
