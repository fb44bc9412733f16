"""Developer sessions: `nox -s tests`, `lint`, `build`, `bench`, `gpu`.

Each session makes its own virtual environment. Set HUBKIT_TORCH to pin the
torch requirement installed first (default: the CPU build used in CI).
"""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "tests"]
TORCH = os.environ.get("HUBKIT_TORCH", "torch==2.13.0")


@nox.session
def tests(session: nox.Session) -> None:
    """Install with test extras (editable) and run everything but slow tests."""
    session.install(TORCH)
    session.install("-e", ".[test]")
    session.run("pytest", "-m", "not slow", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the package, kernels, tests and benchmarks."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", "python", "kernels", "tests", "benchmarks", "noxfile.py")


@nox.session
def build(session: nox.Session) -> None:
    """Build a wheel, install it in this fresh venv, import it and run `hubkit doctor`."""
    session.install(TORCH, "build")
    outdir = session.create_tmp()
    session.run("python", "-m", "build", "--wheel", "--outdir", outdir)
    wheels = [f for f in os.listdir(outdir) if f.endswith(".whl")]
    session.install(os.path.join(outdir, wheels[0]))
    session.chdir(outdir)  # import the installed wheel, not the source tree
    session.run("python", "-c", "import hubkit, hubkit.kernels, torch; "
                "print(hubkit.__version__, hubkit.ops.available_backends())")
    session.run("hubkit", "doctor")


@nox.session
def bench(session: nox.Session) -> None:
    """Run the CPU benchmarks and save JSON under benchmarks/results/."""
    session.install(TORCH)
    session.install("-e", ".[test]")
    args = session.posargs or ["benchmarks"]
    session.run("pytest", *args, "--benchmark-only", "--benchmark-columns=median,iqr,rounds",
                "--benchmark-json", "benchmarks/results/cpu-latest.json", "-p", "no:cacheprovider")


@nox.session(venv_backend="none")
def gpu(session: nox.Session) -> None:
    """On a CUDA machine with no network: build in place, run the GPU checks."""
    session.run("bash", "benchmarks/gpu_check.sh", *session.posargs, external=True)
