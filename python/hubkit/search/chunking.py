"""Split documents into chunks worth embedding, each with the lines it came from.

A sentence-embedding model sees at most a few hundred tokens (MiniLM: 256), so
a document is cut into chunks of about `max_chars` characters. The cuts fall
where a reader would put them:

* text and Markdown: between paragraphs (blank lines); a fenced code block
  (``` or ~~~) is one block, never cut, even across blank lines inside it;
  a Markdown heading starts a new chunk, so a chunk stays in one section;
* Python: one chunk per top-level function or class (decorators included);
  a class too long for one chunk gives one chunk per method plus its header;
  the code between them (imports, constants, the module docstring) is grouped;
* PDF: page by page (pypdf's text extraction), then by paragraphs.

Neighbouring small blocks are packed together up to `max_chars`; a single block
longer than that is split at line boundaries (the model would truncate it anyway).
Every chunk keeps its 1-based, inclusive line span, so results cite `file:line`.

Example:
    >>> text = "# Title\\n\\nfirst paragraph\\n\\n```\\ncode\\n\\nmore code\\n```\\n"
    >>> [(c.start_line, c.end_line, c.kind) for c in chunk_markdown(text, max_chars=40)]
    [(1, 3, 'text'), (5, 9, 'code')]
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md", ".py", ".pdf")
MAX_CHARS = 1000  # ~250 word pieces: about what MiniLM reads (256)
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: its text, its line span and what it is.

    `start_line`/`end_line` are 1-based and inclusive (for a PDF: lines of the
    page's extracted text); `page` is the 1-based PDF page, else None; `kind`
    is "text", "code", "function", "class" or "module".
    """

    text: str
    start_line: int
    end_line: int
    kind: str = "text"
    page: int | None = None

    def citation(self, path: str) -> str:
        """`path:12-30`, `path:7`, or `path:p3:4-9` for a PDF page."""
        lines = (str(self.start_line) if self.start_line == self.end_line
                 else f"{self.start_line}-{self.end_line}")
        return f"{path}:p{self.page}:{lines}" if self.page else f"{path}:{lines}"


@dataclass
class _Block:
    lines: list[str]
    start: int  # 1-based line number of lines[0]
    kind: str = "text"
    heading: bool = False

    @property
    def size(self) -> int:
        return sum(len(line) + 1 for line in self.lines)


def _blocks(text: str, markdown: bool) -> list[_Block]:
    """Paragraphs (blank-line separated), fenced code blocks and headings, in order."""
    blocks: list[_Block] = []
    current: _Block | None = None
    fence: str | None = None
    for n, line in enumerate(text.splitlines(), 1):
        opened = _FENCE.match(line)
        if fence is not None:  # inside a code block: everything belongs to it
            current.lines.append(line)
            if opened and opened.group(1)[0] == fence[0] and len(opened.group(1)) >= len(fence):
                fence, current = None, None
            continue
        if opened:
            fence = opened.group(1)
            current = _Block([line], n, kind="code")
            blocks.append(current)
        elif not line.strip():
            current = None
        elif markdown and _HEADING.match(line):
            blocks.append(_Block([line], n, heading=True))
            current = None
        elif current is None or current.kind == "code" or current.heading:
            current = _Block([line], n)
            blocks.append(current)
        else:
            current.lines.append(line)
    return blocks


def _split_long(block: _Block, max_chars: int) -> list[_Block]:
    """A block longer than max_chars as consecutive pieces cut at line boundaries."""
    pieces, lines, start = [], [], block.start
    for i, line in enumerate(block.lines):
        if lines and sum(len(x) + 1 for x in lines) + len(line) + 1 > max_chars:
            pieces.append(_Block(lines, start, block.kind))
            lines, start = [], block.start + i
        lines.append(line)
    pieces.append(_Block(lines, start, block.kind))
    return pieces


def _pack(blocks: list[_Block], max_chars: int, page: int | None = None) -> list[Chunk]:
    """Neighbouring blocks joined into chunks of at most max_chars (a heading starts one)."""
    chunks: list[Chunk] = []
    group: list[_Block] = []

    def flush() -> None:
        if group:
            kinds = {b.kind for b in group}
            text = "\n".join(line for b in group for line in _with_gaps(b, group))
            end = group[-1].start + len(group[-1].lines) - 1
            chunks.append(Chunk(text.strip("\n"), group[0].start, end,
                                kinds.pop() if len(kinds) == 1 else "text", page))
            group.clear()

    for block in blocks:
        for piece in (_split_long(block, max_chars) if block.size > max_chars else [block]):
            full = sum(b.size for b in group) + piece.size > max_chars
            # subtle: a heading alone says little: it stays with the block under it
            if block.heading or (full and not all(b.heading for b in group)):
                flush()
            group.append(piece)
    flush()
    return chunks


def _with_gaps(block: _Block, group: list[_Block]) -> list[str]:
    """The block's lines, preceded by a blank line unless it opens the group."""
    return block.lines if block is group[0] else ["", *block.lines]


def chunk_text(text: str, max_chars: int = MAX_CHARS, *, page: int | None = None) -> list[Chunk]:
    """Plain text cut between paragraphs (fenced code blocks are kept whole)."""
    _check_max_chars(max_chars)
    return _pack(_blocks(text, markdown=False), max_chars, page)


def chunk_markdown(text: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Markdown cut between paragraphs; code fences kept whole; a heading starts a chunk."""
    _check_max_chars(max_chars)
    return _pack(_blocks(text, markdown=True), max_chars)


def _check_max_chars(max_chars: int) -> None:
    if not isinstance(max_chars, int) or max_chars < 1:
        raise ValueError(f"max_chars must be a positive int, got {max_chars!r}")


def _definitions(tree: ast.Module) -> list[tuple[int, int, str, ast.AST]]:
    """(first line with decorators, last line, kind, node) of each top-level def/class."""
    found = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            found.append((first, node.end_lineno, kind, node))
    return found


def _lines_chunk(lines: list[str], first: int, last: int, kind: str) -> Chunk:
    return Chunk("\n".join(lines[first - 1:last]), first, last, kind)


def _class_chunks(lines: list[str], first: int, last: int, node: ast.ClassDef,
                  max_chars: int) -> list[Chunk]:
    """A long class: its header (up to the first method), then one chunk per method."""
    methods = _definitions(ast.Module(body=node.body, type_ignores=[]))
    if not methods:
        return _module_code(lines, first, last, max_chars, "class")
    out = [_lines_chunk(lines, first, methods[0][0] - 1, "class")]
    out += [_lines_chunk(lines, a, b, "function") for a, b, _, _ in methods]
    return out


def chunk_python(source: str, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """Python cut at top-level functions and classes; other code grouped between them.

    Source that does not parse is chunked as plain text.
    """
    _check_max_chars(max_chars)
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return chunk_text(source, max_chars)
    lines = source.splitlines()
    chunks, next_line = [], 1
    for first, last, kind, node in _definitions(tree):
        chunks += _module_code(lines, next_line, first - 1, max_chars)
        chunks += _definition_chunks(lines, first, last, kind, node, max_chars)
        next_line = last + 1
    chunks += _module_code(lines, next_line, len(lines), max_chars)
    return [c for c in chunks if c.text.strip()]


def _definition_chunks(lines: list[str], first: int, last: int, kind: str, node: ast.AST,
                       max_chars: int) -> list[Chunk]:
    """One def or class: whole if it fits; a long class by methods, a long function by lines."""
    if len("\n".join(lines[first - 1:last])) <= max_chars:
        return [_lines_chunk(lines, first, last, kind)]
    if kind == "class":
        return _class_chunks(lines, first, last, node, max_chars)
    return _module_code(lines, first, last, max_chars, kind)


def _module_code(lines: list[str], first: int, last: int, max_chars: int,
                 kind: str = "module") -> list[Chunk]:
    """Lines first..last (e.g. between defs) as paragraph chunks of the given kind."""
    if last < first:
        return []
    # subtle: offset the spans: chunk_text numbers lines from 1 within the slice
    pieces = chunk_text("\n".join(lines[first - 1:last]), max_chars)
    return [Chunk(c.text, c.start_line + first - 1, c.end_line + first - 1, kind)
            for c in pieces]


def chunk_pdf(path: str | Path, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """A PDF's pages (text extracted with pypdf), each cut between paragraphs."""
    try:
        from pypdf import PdfReader
    except ImportError:
        raise ImportError("reading PDF files needs pypdf: pip install 'hubkit-learn[search]'",
                          name="pypdf") from None
    from pypdf.errors import PyPdfError

    chunks = []
    try:
        for number, page in enumerate(PdfReader(str(path)).pages, 1):
            chunks += chunk_text(page.extract_text() or "", max_chars, page=number)
    except PyPdfError as err:  # a damaged or encrypted file: one message, not a traceback
        raise ValueError(f"{Path(path).name} is not a readable PDF ({err})") from None
    return chunks


def load_chunks(path: str | Path, max_chars: int = MAX_CHARS) -> list[Chunk]:
    """The chunks of one .txt, .md, .py or .pdf file (chosen by its suffix).

    Raises:
        ValueError: the suffix is not one of SUFFIXES.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return chunk_pdf(path, max_chars)
    if suffix not in SUFFIXES:
        raise ValueError(f"path must end in one of {', '.join(SUFFIXES)}, got {path.name!r}")
    text = path.read_text(encoding="utf-8", errors="replace")
    split = {".md": chunk_markdown, ".py": chunk_python}.get(suffix, chunk_text)
    return split(text, max_chars)
