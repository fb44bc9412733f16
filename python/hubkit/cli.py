"""The `hubkit` command: list, init, check, hint, watch, progress, bench, doctor.

A user error (unknown exercise, no workspace, missing file) prints one line
and exits with status 2, never a traceback. `hubkit check --all` with no
workspace grades hubkit's own shipped solutions: the project's main job on a
fresh install.
"""

from __future__ import annotations

import functools
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

import hubkit
from hubkit.check import exercises as exmod
from hubkit.check import workspace as wsmod
from hubkit.check.result import Result

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="hubkit: learn deep learning by building it.")
# subtle: without a terminal (CI logs, pipes) rich assumes 80 columns and
# squeezes the check table; a log can afford 120.
console = Console(width=None if sys.stdout.isatty() else 120)


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status 2."""


def _friendly(fn):
    """Print a user error (bad id, no workspace, missing file) as one line; exit 2."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (UserError, exmod.ExerciseError) as err:
            Console(stderr=True).print(f"error: {err}", markup=False, highlight=False,
                                       soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _version(value: bool) -> None:
    if value:
        console.print(f"hubkit {hubkit.__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False
          ) -> None:
    """hubkit: learn deep learning by building it."""


def _workspace(path: Path | None) -> Path | None:
    if path is None:
        return wsmod.find_workspace()
    found = wsmod.find_workspace(path)
    if found is None:
        raise UserError(f"{path} is not a hubkit workspace (no {wsmod.MARKER}); "
                        f"run `hubkit init {path}`")
    return found


WsOption = Annotated[Path | None, typer.Option(
    "--workspace", "-w", help="Workspace folder (default: the one holding the current "
    "directory, or $HUBKIT_WORKSPACE).")]


@app.command("list")
@_friendly
def list_(workspace: WsOption = None) -> None:
    """The curriculum tree (all parts) with every exercise and its status."""
    from hubkit.curriculum import load_outline

    ws = _workspace(workspace)
    known = {ex.id: ex for ex in exmod.all_exercises()}
    tree = Tree("[bold]hubkit curriculum[/bold]")
    linked: set[str] = set()
    for part in load_outline():
        node = tree.add(f"[bold]Part {part.id}[/bold] {part.title} "
                        f"(weeks {part.weeks[0]}-{part.weeks[1]})")
        for section in part.sections:
            ids = sorted({e for o in section.objectives for e in o.exercises})
            sec = node.add(f"{section.id} {section.title}")
            for eid in ids:
                sec.add(_exercise_label(eid, known, ws))
            linked |= set(ids)
    extra = sorted(set(known) - linked)
    if extra:
        node = tree.add("[bold]Other exercises[/bold] (not linked to an objective yet)")
        for eid in extra:
            node.add(_exercise_label(eid, known, ws))
    console.print(tree)


def _exercise_label(eid: str, known: dict, ws: Path | None) -> str:
    if eid not in known:
        return f"[dim]{eid} (planned)[/dim]"
    ex = known[eid]
    state = wsmod.status(ws, ex)
    color = {"passed": "green", "failed": "red", "in progress": "yellow"}.get(state, "cyan")
    return f"[{color}]{eid}[/{color}] ({ex.kind}) {escape(ex.title)} - {state}"


@app.command()
@_friendly
def progress(workspace: WsOption = None) -> None:
    """The outline's objectives, ticked only by passes recorded in the workspace."""
    from hubkit.curriculum import load_outline, ticked

    ws = _workspace(workspace)
    passed = wsmod.passed_exercises(ws)
    if ws is None:
        console.print("[yellow]no workspace here: nothing is ticked (run `hubkit init`)[/yellow]")
    total = done = 0
    for part in load_outline():
        console.print(f"[bold]Part {part.id}: {part.title}[/bold]")
        for section in part.sections:
            for obj in section.objectives:
                mark = "[green]\\[x][/green]" if ticked(obj, passed) else "\\[ ]"
                total += 1
                done += ticked(obj, passed)
                link = (f" [dim](exercises: {', '.join(obj.exercises)})[/dim]" if obj.exercises
                        else " [dim](planned)[/dim]" if obj.planned else "")
                console.print(f"  {mark} {obj.id} {escape(obj.text)}{link}")
    console.print(f"[bold]{done} of {total} objectives ticked[/bold]")


@app.command()
@_friendly
def init(directory: Annotated[Path, typer.Argument(help="Folder to create.")] = Path(
        "hubkit-workspace")) -> None:
    """Create a workspace with every exercise's starter, a README and a progress file."""
    created = wsmod.init_workspace(directory, exmod.all_exercises())
    console.print(f"workspace ready at {directory.resolve()} ({len(created)} files written)")
    console.print(f"next: cd {directory} && hubkit list && hubkit check bias_gelu_cpp")


@app.command()
@_friendly
def hint(exercise_id: str, workspace: WsOption = None) -> None:
    """The next hint for an exercise (each call shows one more)."""
    ex = exmod.get_exercise(exercise_id)
    n, text = wsmod.next_hint(_workspace(workspace), ex)
    console.print(f"[bold]hint {n}/{len(ex.hints)}[/bold] for {ex.id}: {text}")


def _run_one(ex, ws: Path | None, solution: bool, seed: int | None, timing: bool,
             fast: bool) -> Result:
    from hubkit.check.runner import run_check

    if solution:
        return run_check(ex, ex.solution_files(), impl="solution", seed=seed, timing=timing,
                         fast=fast)
    if ws is None:
        raise UserError("no hubkit workspace here: run `hubkit init` first, pass --workspace, "
                        "or use --solution to grade hubkit's own solution")
    result = run_check(ex, wsmod.learner_files(ws, ex), seed=seed, timing=timing, fast=fast)
    wsmod.record(ws, result)
    return result


@app.command()
@_friendly
def check(exercise_id: Annotated[str | None, typer.Argument(help="e.g. bias_gelu_cpp")] = None,
          all_: Annotated[bool, typer.Option("--all", help="Grade every exercise.")] = False,
          solution: Annotated[bool, typer.Option("--solution", help="Grade the answer.")] = False,
          seed: Annotated[int | None, typer.Option(help="Replay a run with this seed.")] = None,
          no_time: Annotated[bool, typer.Option("--no-time", help="Skip timing.")] = False,
          fast: Annotated[bool, typer.Option("--fast", help="Fewer, smaller cases.")] = False,
          json_out: Annotated[Path | None, typer.Option("--json", help="Write results here.")
                              ] = None,
          workspace: WsOption = None) -> None:
    """Grade your implementation of an exercise (or, with --all, every exercise)."""
    if all_ == (exercise_id is not None):
        raise UserError("give one exercise id, or --all")
    ws = _workspace(workspace)
    if all_:
        raise typer.Exit(_check_all(ws, solution or ws is None, seed, not no_time, fast, json_out))
    from hubkit.check.report import render

    ex = exmod.get_exercise(exercise_id)
    result = _run_one(ex, ws, solution, seed, not no_time, fast)
    render(result, console)
    _write_json([result], json_out)
    raise typer.Exit(0 if result.status in ("pass", "not_run") else 1)


def _check_all(ws: Path | None, solution: bool, seed: int | None, timing: bool, fast: bool,
               json_out: Path | None) -> int:
    from hubkit.check.report import render_table

    results = []
    started = time.perf_counter()
    with console.status("checking...") as spinner:
        for ex in exmod.all_exercises():
            spinner.update(f"checking {ex.id}...")
            if not solution and ws is not None and wsmod.is_untouched(ws, ex):
                results.append(Result(ex.id, "learner", ex.kind, "not started"))
                continue
            results.append(_run_one(ex, ws, solution, seed, timing, fast))
    render_table(results, console)
    console.print(f"{len(results)} exercises in {time.perf_counter() - started:.1f} s")
    _write_json(results, json_out)
    # A skipped exercise (an optional package is missing) says why in the table.
    bad = [r for r in results if r.status not in ("pass", "not_run", "skipped", "not started")]
    return 1 if bad else 0


def _write_json(results: list[Result], path: Path | None) -> None:
    if path is not None:
        import json

        path.write_text(json.dumps([r.to_json() for r in results], indent=2))


@app.command()
@_friendly
def watch(exercise_id: Annotated[str | None, typer.Argument(help="Only this exercise.")] = None,
          workspace: WsOption = None) -> None:
    """Re-check an exercise every time one of its files is saved (Ctrl-C stops)."""
    try:
        from watchfiles import watch as watch_files
    except ImportError:
        raise UserError("watching needs watchfiles: pip install 'hubkit[watch]'") from None
    from hubkit.check.report import render

    ws = _workspace(workspace)
    if ws is None:
        raise UserError("no hubkit workspace here: run `hubkit init` first")
    target = ws / exercise_id if exercise_id else ws
    if exercise_id:
        exmod.get_exercise(exercise_id)
    console.print(f"watching {target} (Ctrl-C to stop)")
    for changes in watch_files(target):
        for eid in sorted({Path(p).relative_to(ws).parts[0] for _, p in changes}):
            if eid in {ex.id for ex in exmod.all_exercises()}:
                render(_run_one(exmod.get_exercise(eid), ws, False, None, True, False), console)


def _benchmarks_dir() -> Path | None:
    source_tree = Path(hubkit.__file__).resolve().parents[2]
    candidates = [source_tree / "benchmarks", Path.cwd() / "benchmarks"]
    return next((c for c in candidates if c.is_dir()), None)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@_friendly
def bench(op: Annotated[str, typer.Argument(help="Op name, e.g. bias_gelu.")],
          extra: Annotated[list[str] | None, typer.Argument(help="Extra pytest arguments.")
                           ] = None) -> None:
    """Run benchmarks/bench_<op>.py with pytest-benchmark (from a source checkout)."""
    folder = _benchmarks_dir()
    if folder is None:
        raise UserError("the benchmarks folder is not installed with the package: run "
                        "`hubkit bench` from a source checkout of hubkit")
    path = folder / f"bench_{op}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem[6:] for p in folder.glob("bench_*.py"))) or "none"
        raise UserError(f"no benchmark {path.name} in {folder}; known: {known}")
    cmd = [sys.executable, "-m", "pytest", str(path), "--benchmark-only", "-q", *(extra or [])]
    raise typer.Exit(subprocess.call(cmd, cwd=folder.parent))


@app.command()
@_friendly
def doctor() -> None:
    """What this machine has: versions, compiled backends, CUDA, Triton, optional packages."""
    from hubkit.check.doctor import report

    report(console)


def main() -> None:
    """Console entry point (`hubkit = "hubkit.cli:main"`)."""
    app()


if __name__ == "__main__":
    main()
