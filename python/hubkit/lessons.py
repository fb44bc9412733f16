"""The notebooks: one per outline part, walking through its lessons with hubkit and plots.

They are kept as text (jupytext percent format, `notebooks/partN_*.py` in the
repository) and rendered beside it to `.ipynb`, which ships in the package as
`hubkit/notebooks/`. `hubkit init` copies the rendered notebooks into the
workspace's `notebooks/` folder, never overwriting one the learner changed.

Example:
    >>> [p.name for p in notebook_paths()][:1]
    ['part1_math_foundations.ipynb']
"""

from __future__ import annotations

import importlib.resources
import shutil
from pathlib import Path

FOLDER = "notebooks"


def notebooks_root() -> Path:
    """The installed package's notebooks folder, else the source tree's."""
    try:
        root = importlib.resources.files("hubkit").joinpath(FOLDER)
        if root.is_dir() and any(Path(str(root)).glob("*.ipynb")):
            return Path(str(root))
    except (ModuleNotFoundError, OSError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / FOLDER


def notebook_paths() -> list[Path]:
    """The rendered notebooks, in part order."""
    return sorted(notebooks_root().glob("part*.ipynb"))


def copy_notebooks(workspace: str | Path) -> list[Path]:
    """Copy every notebook into `workspace`/notebooks/ unless it is there; return new files."""
    folder = Path(workspace) / FOLDER
    created = []
    for src in notebook_paths():
        dest = folder / src.name
        if not dest.exists():
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            created.append(dest)
    return created
