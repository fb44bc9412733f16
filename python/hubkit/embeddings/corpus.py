"""Offline text for word embeddings: where it comes from, how it is cut into words, the vocabulary.

Sources, none downloaded:

* "pydoc" (default): Python's own documentation topics (`pydoc_data.topics`,
  shipped with CPython): about 0.5 MB of English about the language, ~60k words.
* "stdlib": the docstrings and comments of the standard library's `.py`
  sources (the folder `sysconfig.get_paths()["stdlib"]`, minus site-packages,
  tests and the codec tables of encodings/): about 3 MB of English about code,
  ~0.44M words (CPython 3.11; parsing the sources takes ~30 s).
* "python": both of the above (~0.5M words), the corpus of the committed run;
* any folder: every `.txt`, `.md`, `.rst` and `.py` file under it, read whole
  (`--corpus DIR`).

Tokenization (`tokenize`): lowercase, then every run of letters, digits and
underscores that starts with a letter or underscore is one word. So
"os.path.join(a, b)" gives ["os", "path", "join", "a", "b"], "__init__" stays
one word, numbers and punctuation are dropped, and "don't" gives ["don", "t"].
A "sentence" is a paragraph (text between blank lines), cut into pieces of at
most 1000 words; context windows never cross a sentence's edge.

Shape legend: V vocabulary size, N tokens in the corpus, S sentences.
"""

from __future__ import annotations

import ast
import io
import re
import sysconfig
import tokenize as pytokenize
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WORD = re.compile(r"[a-z_][a-z0-9_]*")
PARAGRAPH = re.compile(r"\n\s*\n")
MAX_SENTENCE = 1000
TEXT_SUFFIXES = (".txt", ".md", ".rst", ".py")


def tokenize(text: str) -> list[str]:
    """The words of `text` (see the module docstring).

    Example:
        >>> tokenize("os.path.join(a, 2) returns __init__'s Path")
        ['os', 'path', 'join', 'a', 'returns', '__init__', 's', 'path']
    """
    return WORD.findall(text.lower())


def sentences(text: str, max_len: int = MAX_SENTENCE) -> list[list[str]]:
    """The paragraphs of `text` as word lists, each cut into pieces of at most `max_len` words.

    Example:
        >>> sentences("A list.\\n\\nA dict maps keys.", max_len=2)
        [['a', 'list'], ['a', 'dict'], ['maps', 'keys']]
    """
    out = []
    for para in PARAGRAPH.split(text):
        words = tokenize(para)
        out.extend(words[i:i + max_len] for i in range(0, len(words), max_len))
    return out


def pydoc_text() -> str:
    """Python's documentation topics, sorted by topic name, one after the other."""
    import pydoc_data.topics

    topics = pydoc_data.topics.topics
    return "\n\n".join(topics[k] for k in sorted(topics))


def _docs_and_comments(path: Path) -> list[str]:
    """The docstrings (module, class, function) and comments of one Python file."""
    source = path.read_text(encoding="utf-8", errors="replace")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    nodes = [tree, *(n for n in ast.walk(tree) if isinstance(
        n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)))]
    docs = [d for d in (ast.get_docstring(n) for n in nodes) if d]
    comments = []
    # subtle: a comment block (consecutive comment lines) is one paragraph, so a
    # blank line goes between blocks but not between their lines.
    last = -2
    for tok in _comment_tokens(source):
        row = tok.start[0]
        if row != last + 1:
            comments.append("")
        comments.append(tok.string.lstrip("#").strip())
        last = row
    return docs + ["\n".join(comments)]


def _comment_tokens(source: str):
    try:
        for tok in pytokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == pytokenize.COMMENT:
                yield tok
    except (pytokenize.TokenError, SyntaxError):
        return


def stdlib_files(root: str | Path | None = None) -> list[Path]:
    """The standard library's .py files, without site-packages and test suites."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    # subtle: encodings/ is left out: its codec tables' comments are Unicode character
    # names ("LATIN SMALL LETTER A"), tens of thousands of them.
    skip = {"site-packages", "test", "tests", "idle_test", "__pycache__", "encodings"}
    return sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))


def stdlib_text(root: str | Path | None = None) -> str:
    """Docstrings and comments of the standard library, as paragraphs."""
    return "\n\n".join("\n\n".join(_docs_and_comments(p)) for p in stdlib_files(root))


def folder_text(folder: str | Path) -> str:
    """Every .txt, .md, .rst and .py file under `folder`, sorted by path, as one text."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"corpus: {folder} is not a folder "
                                "(or use 'pydoc', 'stdlib', 'python')")
    files = sorted(p for p in folder.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file())
    if not files:
        raise ValueError(f"corpus: no {', '.join(TEXT_SUFFIXES)} files under {folder}")
    return "\n\n".join(p.read_text(encoding="utf-8", errors="replace") for p in files)


def load_text(source: str | Path = "pydoc") -> str:
    """The text of a corpus: "pydoc", "stdlib", "python" (both) or a folder."""
    if str(source) == "pydoc":
        return pydoc_text()
    if str(source) == "stdlib":
        return stdlib_text()
    if str(source) == "python":
        return pydoc_text() + "\n\n" + stdlib_text()
    return folder_text(source)


@dataclass
class Corpus:
    """A vocabulary and the corpus as word ids.

    Attributes:
        words: the vocabulary (V,), most frequent first (ties alphabetical).
        counts: int64 (V,): how often each word occurs.
        ids: int32 (N,): the corpus's in-vocabulary words, sentence after sentence.
        offsets: int64 (S + 1,): sentence s is ids[offsets[s]:offsets[s + 1]].
    """

    words: list[str]
    counts: np.ndarray
    ids: np.ndarray
    offsets: np.ndarray

    @property
    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    def sentences(self) -> list[list[str]]:
        """The corpus back as word lists (what gensim trains on)."""
        return [[self.words[i] for i in self.ids[a:b]]
                for a, b in zip(self.offsets[:-1], self.offsets[1:], strict=True)]


def build(sents: list[list[str]], min_count: int = 5) -> Corpus:
    """Keep words seen at least `min_count` times; drop the others (as word2vec does).

    Sentences left empty are dropped.

    Example:
        >>> c = build([["a", "b", "a"], ["c"], ["b", "a"]], min_count=2)
        >>> c.words, c.counts.tolist(), c.ids.tolist(), c.offsets.tolist()
        (['a', 'b'], [3, 2], [0, 1, 0, 1, 0], [0, 3, 5])
    """
    if min_count < 1:
        raise ValueError(f"min_count: must be >= 1, got {min_count}")
    freq = Counter(w for s in sents for w in s)
    words = sorted((w for w, c in freq.items() if c >= min_count), key=lambda w: (-freq[w], w))
    index = {w: i for i, w in enumerate(words)}
    ids, offsets = [], [0]
    for s in sents:
        kept = [index[w] for w in s if w in index]
        if kept:
            ids.extend(kept)
            offsets.append(len(ids))
    return Corpus(words, np.array([freq[w] for w in words], dtype=np.int64),
                  np.array(ids, dtype=np.int32), np.array(offsets, dtype=np.int64))


def load(source: str | Path = "pydoc", min_count: int = 5, max_words: int | None = None) -> Corpus:
    """`build(sentences(load_text(source)))`, keeping only the first `max_words` words if given."""
    sents = sentences(load_text(source))
    if max_words is not None:
        sents = _first_words(sents, max_words)
    return build(sents, min_count)


def _first_words(sents: list[list[str]], n: int) -> list[list[str]]:
    out, total = [], 0
    for s in sents:
        if total >= n:
            break
        out.append(s[:n - total])
        total += len(out[-1])
    return out
