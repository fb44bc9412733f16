"""Known-wrong implementations stored as unified diffs against the shipped solution.

A wrong implementation differs from the solution in a line or two: the
forgotten scale, the missing mask. Storing it as `wrong/<name>.diff` (what
`diff -u solution/f.py wrong.py` prints) keeps that one change in view for
the reader and never lets a copy of the solution drift.

Example:
    >>> text = "a = 1\\nb = 2\\nc = 3\\n"
    >>> diff = "@@ -1,3 +1,3 @@\\n a = 1\\n-b = 2\\n+b = 0\\n c = 3\\n"
    >>> apply_diff(text, diff)
    'a = 1\\nb = 0\\nc = 3\\n'
"""

from __future__ import annotations

import difflib
import hashlib
from pathlib import Path


class PatchError(ValueError):
    """A diff does not apply to the solution it was written against."""


def _hunks(diff: str) -> list[tuple[list[str], list[str]]]:
    """(old lines, new lines) per hunk; file headers (---/+++) are skipped."""
    hunks: list[tuple[list[str], list[str]]] = []
    for line in diff.splitlines():
        if line.startswith(("--- ", "+++ ")):
            continue
        if line.startswith("@@"):
            hunks.append(([], []))
        elif hunks and line[:1] in (" ", "-", "+", ""):
            old, new = hunks[-1]
            body = line[1:]
            if line[:1] in (" ", ""):
                old.append(body)
                new.append(body)
            elif line[0] == "-":
                old.append(body)
            else:
                new.append(body)
        elif hunks and line.startswith("\\"):
            continue  # "\ No newline at end of file"
    return hunks


def apply_diff(text: str, diff: str) -> str:
    """Apply each hunk of `diff` to `text` by exact, unique match of its old lines."""
    lines = text.splitlines()
    start = 0
    for number, (old, new) in enumerate(_hunks(diff), 1):
        at = _find(lines, old, start)
        if at < 0:
            raise PatchError(f"hunk {number} does not match the solution: {old[:3]!r}")
        lines[at:at + len(old)] = new
        start = at + len(new)
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def _find(lines: list[str], block: list[str], start: int) -> int:
    for i in range(start, len(lines) - len(block) + 1):
        if lines[i:i + len(block)] == block:
            return i
    return -1


def make_diff(solution: str, wrong: str, name: str) -> str:
    """The unified diff (3 lines of context) that turns `solution` into `wrong`."""
    return "".join(difflib.unified_diff(
        solution.splitlines(keepends=True), wrong.splitlines(keepends=True),
        fromfile=f"solution/{name}", tofile=f"wrong/{name}", n=3))


def materialize(solution: Path, diff_file: Path, workdir: Path) -> Path:
    """Write solution + diff to `workdir/<hash>/<solution name>` and return that path."""
    text = apply_diff(solution.read_text(encoding="utf-8"), diff_file.read_text(encoding="utf-8"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    out = Path(workdir) / digest / solution.name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out
