"""hubkit.search.chunking: paragraphs, code fences, Python defs, PDFs, and their line spans."""

from __future__ import annotations

import textwrap

import pytest

from hubkit.agents.capstone import write_pdf  # a minimal PDF, no PDF library needed
from hubkit.search.chunking import Chunk, chunk_markdown, chunk_python, chunk_text, load_chunks

MARKDOWN = textwrap.dedent("""\
    # Title

    First paragraph, line one
    and line two.

    ```python
    def f():

        return 1
    ```

    ## Second section

    Closing words.
    """)


def _spans(chunks):
    return [(c.start_line, c.end_line, c.kind) for c in chunks]


def test_markdown_keeps_a_code_fence_whole_across_its_blank_lines():
    chunks = chunk_markdown(MARKDOWN, max_chars=60)
    assert _spans(chunks) == [(1, 4, "text"), (6, 10, "code"), (12, 14, "text")]
    assert chunks[1].text.splitlines()[0] == "```python" and chunks[1].text.endswith("```")


def test_small_blocks_are_packed_but_a_heading_starts_a_new_chunk():
    assert _spans(chunk_markdown(MARKDOWN, max_chars=1000)) == [(1, 10, "text"), (12, 14, "text")]


def test_chunk_text_matches_the_lines_it_cites():
    text = "\n".join(f"paragraph {i} " + "word " * 30 + "\n" for i in range(6))
    lines = text.splitlines()
    for chunk in chunk_text(text, max_chars=400):
        assert chunk.text == "\n".join(lines[chunk.start_line - 1:chunk.end_line])
        assert len(chunk.text) <= 400


def test_a_paragraph_longer_than_max_chars_is_cut_between_lines():
    text = "\n".join(f"line {i:02d} of one long paragraph" for i in range(40))
    chunks = chunk_text(text, max_chars=200)
    assert len(chunks) > 1 and chunks[0].start_line == 1 and chunks[-1].end_line == 40
    assert all(b.start_line == a.end_line + 1 for a, b in zip(chunks, chunks[1:], strict=False))


PYTHON = textwrap.dedent('''\
    """Module docstring."""
    import os

    CONSTANT = 3


    @decorator
    def first(x):
        return x


    class Big:
        """A class too long for one chunk."""

        def a(self):
            return "%s"

        def b(self):
            return "%s"
    ''') % ("a" * 80, "b" * 80)


def test_python_is_cut_at_functions_and_classes_with_their_decorators():
    spans = _spans(chunk_python(PYTHON, max_chars=150))
    assert spans == [(1, 4, "module"), (7, 9, "function"), (12, 14, "class"),
                     (15, 16, "function"), (18, 19, "function")]
    assert _spans(chunk_python(PYTHON))[2] == (12, 19, "class")  # fits: one chunk


def test_python_that_does_not_parse_is_chunked_as_text():
    assert _spans(chunk_python("def broken(:\n    pass\n")) == [(1, 2, "text")]


def test_citation_names_file_lines_and_pdf_page():
    assert Chunk("x", 3, 7).citation("a.md") == "a.md:3-7"
    assert Chunk("x", 5, 5).citation("a.md") == "a.md:5"
    assert Chunk("x", 1, 2, page=4).citation("b.pdf") == "b.pdf:p4:1-2"


def test_load_chunks_reads_each_suffix(tmp_path):
    pytest.importorskip("pypdf")
    (tmp_path / "a.txt").write_text("one\n\ntwo\n")
    (tmp_path / "b.md").write_text(MARKDOWN)
    (tmp_path / "c.py").write_text(PYTHON)
    write_pdf(tmp_path / "d.pdf", ["Gradient descent walks downhill", "Replay buffers"])
    assert _spans(load_chunks(tmp_path / "a.txt")) == [(1, 3, "text")]
    assert load_chunks(tmp_path / "b.md")[0].text.startswith("# Title")
    assert load_chunks(tmp_path / "c.py")[1].kind == "function"
    pdf = load_chunks(tmp_path / "d.pdf")
    assert [(c.page, c.text) for c in pdf] == [(1, "Gradient descent walks downhill"),
                                               (2, "Replay buffers")]
    with pytest.raises(ValueError, match=r"path must end in one of .txt, .md, .py, .pdf"):
        load_chunks(tmp_path / "e.docx")
