"""The eight notebooks: in sync with their jupytext sources, executed, copied by `hubkit init`.

Each notebook runs in a fresh kernel with nbclient; a cell that raises fails
the test. The budget is enforced by nbclient's per-cell timeout (a kill, not a
timing assert): all eight together take about 2 minutes on 2 CPU cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hubkit import lessons

SOURCES = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("part*.py"))
CELL_TIMEOUT_S = 120


def test_one_notebook_per_outline_part():
    from hubkit.curriculum import load_outline

    parts = [p.id for p in load_outline()]
    assert [p.name.split("_")[0] for p in SOURCES] == [f"part{i}" for i in parts]
    assert [p.with_suffix(".ipynb").name for p in SOURCES] == \
        [p.name for p in lessons.notebook_paths()]


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_rendered_notebook_matches_its_source(source):
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    want = jupytext.read(source)
    got = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    cells = lambda nb: [(c.cell_type, c.source) for c in nb.cells]  # noqa: E731
    assert cells(got) == cells(want), (f"{source.name} and its .ipynb differ: run "
                                       "jupytext --to ipynb notebooks/part*.py")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_imports_only_hubkit_and_the_plotting_stack(source):
    allowed = {"hubkit", "numpy", "torch", "matplotlib", "tempfile", "pathlib", "time"}
    for line in source.read_text().splitlines():
        if line.startswith(("import ", "from ")):
            top = line.split()[1].split(".")[0]
            assert top in allowed, f"{source.name}: {line}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_notebook_executes(source, tmp_path, monkeypatch):
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(source.with_suffix(".ipynb"), as_version=4)
    # subtle: a kernel per notebook inherits this environment; keep it to one thread each
    # so eight notebooks on a 2-core CI machine do not oversubscribe it
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
                 for o in c.get("outputs", []))
    assert images >= 1, f"{source.name} drew no plot"


def test_hubkit_init_copies_the_notebooks(tmp_path):
    from hubkit.cli import main

    ws = tmp_path / "ws"
    assert main(["init", str(ws)]) == 0
    copied = sorted(p.name for p in (ws / "notebooks").glob("*.ipynb"))
    assert copied == [p.name for p in lessons.notebook_paths()] and len(copied) == 8
    edited = ws / "notebooks" / copied[0]
    edited.write_text("{}")
    assert main(["init", str(ws)]) == 0
    assert edited.read_text() == "{}"  # never overwritten
