"""hubkit._mujoco runs against the mujoco it was built with, and says so when it cannot.

pip builds hubkit in an isolated environment with the build requirements,
then installs the runtime ones: pinning the same mujoco in both makes the
extension's headers and the installed libmujoco the same version.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

import pytest

from hubkit import _ext

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^mujoco\s*==\s*(\S+)$")


def _mujoco_pins(requirements: list[str]) -> list[str]:
    """The exact versions `mujoco==X` in a requirement list; non-exact ones as themselves."""
    reqs = [r.split(";")[0].strip() for r in requirements if r.startswith("mujoco")]
    return [m.group(1) if (m := PIN.match(r)) else r for r in reqs]


def test_build_and_runtime_require_the_same_exact_mujoco():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = _mujoco_pins(meta["build-system"]["requires"])
    extras = meta["project"]["optional-dependencies"]
    runtime = {name: _mujoco_pins(reqs) for name, reqs in extras.items()
               if _mujoco_pins(reqs)}
    assert len(build) == 1 and re.fullmatch(r"[0-9.]+", build[0]), build
    assert runtime, "no extra installs mujoco"
    assert all(pins == build for pins in runtime.values()), (build, runtime)


def _extension():
    pytest.importorskip("mujoco")
    pytest.importorskip("gymnasium")
    if _ext.load_error("_mujoco") is not None:
        pytest.skip(f"hubkit._mujoco was not built: {_ext.build_info().get('mujoco')}")
    from hubkit.envs.vector import load_extension

    return load_extension()


def test_installed_mujoco_is_the_one_the_extension_was_built_with():
    import mujoco

    ext = _extension()
    assert ext.built_with_mujoco == mujoco.__version__
    assert _ext.build_info()["mujoco_version"] == mujoco.__version__
    assert ext.library_version() == ext.header_version == mujoco.mj_version()


def test_mismatch_names_both_versions_and_the_reinstall_command(monkeypatch):
    import mujoco

    ext = _extension()
    monkeypatch.setattr(mujoco, "__version__", "3.2.0")
    from hubkit.envs.vector import load_extension

    with pytest.raises(ImportError) as err:
        load_extension()
    message = str(err.value)
    assert f"built against mujoco {ext.built_with_mujoco}" in message
    assert "mujoco 3.2.0" in message
    assert f"pip install mujoco=={ext.built_with_mujoco}" in message
    assert "pip install --force-reinstall" in message
