"""The `hubkit` command: list, init, check, hint, watch, progress, runs, bench, doctor.

A user error (unknown exercise, no workspace, missing file) prints one line
and exits with status 2, never a traceback. `hubkit check --all` with no
workspace grades hubkit's own shipped solutions: the project's main job on a
fresh install.

Startup is part of the interface: `--version`, `list`, `progress`, `hint`,
`init` and `runs` only read files, so this module and those commands never import torch
(nor hubkit modules that do); the commands that compute (`check`, `watch`,
`doctor`) import what they need when they run. The parser is the standard
library's argparse, which costs a few milliseconds to import.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from hubkit import lessons
from hubkit.check import exercises as exmod
from hubkit.check import workspace as wsmod

# Exit statuses (documented in `hubkit check --help`).
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_NOT_ALL_RUN = 0, 1, 2, 3

CHECK_EPILOG = """\
exit status:
  0  every exercise graded passed
  1  at least one failed (FAIL, ERROR, CRASH, TIMEOUT, COMPILE ERROR, NOT IMPLEMENTED YET)
  2  a usage error (unknown exercise, no workspace, bad option)
  3  nothing failed, but something was not graded: SKIPPED (an optional package
     is missing), NOT RUN (compiled, but no CUDA device here) or NOT STARTED
     (your starter is untouched)

check --all prints one line per exercise as soon as it finishes, with its
place (n/N) and an estimate of the time left, also when the output is a pipe.
"""


class UserError(Exception):
    """A mistake the user can fix: printed as one line, exit status 2."""


def console(stderr: bool = False):
    """A rich Console; 120 columns when writing to a log or a pipe."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # subtle: without a terminal (CI logs, pipes) rich assumes 80 columns and
    # squeezes tables; a log can afford 120.
    return Console(stderr=stderr, width=None if stream.isatty() else 120)


def _workspace(path: Path | None) -> Path | None:
    if path is None:
        return wsmod.find_workspace()
    found = wsmod.find_workspace(path)
    if found is None:
        raise UserError(f"{path} is not a hubkit workspace (no {wsmod.MARKER}); "
                        f"run `hubkit init {path}`")
    return found


# ------------------------------------------------------------------ light commands

def cmd_list(args) -> int:
    """The curriculum tree (all parts) with every exercise and its status."""
    from rich.tree import Tree

    from hubkit.curriculum import load_outline

    ws = _workspace(args.workspace)
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
    console().print(tree)
    return EXIT_OK


def _exercise_label(eid: str, known: dict, ws: Path | None) -> str:
    from rich.markup import escape

    if eid not in known:
        return f"[dim]{eid} (planned)[/dim]"
    ex = known[eid]
    state = wsmod.status(ws, ex)
    color = {"passed": "green", "failed": "red", "in progress": "yellow"}.get(state, "cyan")
    return f"[{color}]{eid}[/{color}] ({ex.kind}) {escape(ex.title)} - {state}"


def cmd_progress(args) -> int:
    """The outline's objectives, ticked only by passes recorded in the workspace."""
    if args.history:
        return _history(args)
    from rich.markup import escape

    from hubkit.curriculum import load_outline, progress_counts, tickable, ticked

    ws = _workspace(args.workspace)
    passed = wsmod.passed_exercises(ws)
    known = {ex.id for ex in exmod.all_exercises()}
    lines = [] if ws else ["[yellow]no workspace here: nothing is ticked (run `hubkit init`)"
                           "[/yellow]"]
    for part in load_outline():
        lines.append(f"[bold]Part {part.id}: {part.title}[/bold]")
        for section in part.sections:
            for obj in section.objectives:
                if not tickable(obj, known):
                    read = f"; read {', '.join(obj.modules)}" if obj.modules else ""
                    lines.append(f"  [dim]planned {obj.id} {escape(obj.text)} "
                                 f"(no exercise ticks it yet{escape(read)})[/dim]")
                    continue
                mark = "[green]\\[x][/green]" if ticked(obj, passed) else "\\[ ]"
                lines.append(f"  {mark} {obj.id} {escape(obj.text)} "
                             f"[dim](exercises: {', '.join(obj.exercises)})[/dim]")
    n = progress_counts(passed, known)
    lines.append(f"[bold]{n['ticked']} of {n['tickable']} objectives you can tick today are "
                 f"ticked; {n['planned']} planned[/bold] (no exercise ticks them yet)")
    # subtle: one print, not one per line: each print flushes, ~100 writes to a pipe
    console().print("\n".join(lines))
    return EXIT_OK


def _history(args) -> int:
    """`progress --history ID`: the table of passing attempts and a PNG plot."""
    from hubkit.check import history

    ex = exmod.get_exercise(args.history)
    ws = _workspace(args.workspace)
    if ws is None:
        raise UserError("no hubkit workspace here: the history lives in a workspace "
                        "(run `hubkit init`, or pass --workspace)")
    entries = history.load(ws, ex.id)
    if not entries:
        console().print(f"no passing attempts of {ex.id} recorded in {ws} yet: each passing "
                        f"`hubkit check {ex.id}` adds one", markup=False)
        return EXIT_OK
    out = console()
    out.print(history.table(entries, ex.id))
    try:
        png = history.plot(entries, ex.id, args.out or ws / history.FOLDER / f"{ex.id}.png")
    except ImportError:
        out.print("no plot written: it needs matplotlib (pip install 'hubkit-learn[plot]')",
                  markup=False)
        return EXIT_OK
    out.print(f"wrote {png}", markup=False)
    return EXIT_OK


def cmd_init(args) -> int:
    """Create a workspace with every exercise's starter, a README and a progress file."""
    directory, force = args.directory, args.force
    foreign = wsmod.foreign_entries(directory)
    if foreign and not force and sys.stdin.isatty():
        answer = input(f"{directory} is not empty and is not a hubkit workspace "
                       f"({', '.join(foreign[:3])}...). Add the exercises beside what is "
                       "there? [y/N] ")
        force = answer.strip().lower() in ("y", "yes")
        if not force:
            print("nothing written")
            return EXIT_USAGE
    created = wsmod.init_workspace(directory, exmod.all_exercises(), force=force)
    created += lessons.copy_notebooks(directory)  # the eight notebooks, one per outline part
    print(f"workspace ready at {directory.resolve()} ({len(created)} files written)")
    print(f"next: cd {directory} && hubkit list && hubkit check bias_gelu_cpp")
    return EXIT_OK


def cmd_hint(args) -> int:
    """The next hint for an exercise (each call shows one more)."""
    ex = exmod.get_exercise(args.exercise)
    ws = _workspace(args.workspace)
    n, text = wsmod.next_hint(ws, ex)
    if text is None:
        print(f"No more hints for {ex.id}: you have seen all {len(ex.hints)}. Reread them in "
              f"{ex.id}/README.md's steps, or run `hubkit check {ex.id}` for the diagnostics.")
    else:
        print(f"hint {n}/{len(ex.hints)} for {ex.id}: {text}")
    if ws is None:  # nowhere to remember which hints were seen
        print("(no workspace here, so this is always hint 1: run it in a `hubkit init` folder)")
    return EXIT_OK


# ------------------------------------------------------------------ checking

def grade(ex, ws: Path | None, solution: bool, seed: int | None, timing: bool, fast: bool):
    """Grade one exercise: hubkit's solution, or the learner's files (recorded in `ws`)."""
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


def exit_status(results: list) -> int:
    """0 all passed, 1 any failed, 3 nothing failed but something was not graded."""
    from hubkit.check.report import UNGRADED

    if any(r.status != "pass" and r.status not in UNGRADED for r in results):
        return EXIT_FAILED
    return EXIT_NOT_ALL_RUN if any(r.status in UNGRADED for r in results) else EXIT_OK


def cmd_check(args) -> int:
    """Grade your implementation of an exercise (or, with --all, every exercise)."""
    if args.self_test:
        return _self_test(args.exercise)
    if args.all == (args.exercise is not None):
        raise UserError("give one exercise id, or --all")
    if args.only and not args.all:
        raise UserError("--only selects exercises for --all; give it with --all")
    ws = _workspace(args.workspace)
    timing = not args.no_time
    if args.all:
        return _check_all(ws, args.solution or ws is None, args, timing)
    from hubkit.check.report import render

    ex = exmod.get_exercise(args.exercise)
    result = grade(ex, ws, args.solution, args.seed, timing, args.fast)
    out = console()
    render(result, out)
    if ws is not None and result.passed and not args.solution:
        out.print(f"[dim]added to your history: hubkit progress --history {ex.id}[/dim]")
    _write_json([result], args.json)
    return exit_status([result])


def _self_test(exercise: str | None) -> int:
    """hubkit.check.selftest: one line per expectation; exit 1 if any is not met."""
    from hubkit.check.selftest import self_test

    out = console()

    def report(row) -> None:
        mark = "[green]ok[/green]  " if row.ok else "[bold red]FAIL[/bold red]"
        out.print(f"{mark} {row.exercise:24} {row.impl:34} {row.detail}", markup=True,
                  highlight=False)

    rows = self_test(exercise, report)
    bad = [r for r in rows if not r.ok]
    out.print(f"{len(rows) - len(bad)} of {len(rows)} expectations met")
    return EXIT_FAILED if bad else EXIT_OK


def _selected(pattern: str | None) -> list:
    import fnmatch

    found = exmod.all_exercises()
    if pattern is None:
        return found
    chosen = [ex for ex in found if fnmatch.fnmatchcase(ex.id, pattern)]
    if not chosen:
        raise UserError(f"--only {pattern!r} matches no exercise; known: "
                        + ", ".join(ex.id for ex in found))
    return chosen


def _check_all(ws: Path | None, solution: bool, args, timing: bool) -> int:
    from hubkit.check.report import footer_lines, render_table, row_line, summary_line
    from hubkit.check.result import Result

    chosen = _selected(args.only)
    out = console()
    width = max(len(ex.id) for ex in chosen)
    out.print(f"checking {len(chosen)} exercises "
              f"({'hubkit solutions' if solution else 'your workspace ' + str(ws)})",
              markup=False)
    results: list = []
    started = time.perf_counter()
    for n, ex in enumerate(chosen, 1):
        if not solution and ws is not None and wsmod.is_untouched(ws, ex):
            result = Result(ex.id, "learner", ex.kind, "not started")
        else:
            result = grade(ex, ws, solution, args.seed, timing, args.fast)
        results.append(result)
        spent = time.perf_counter() - started
        out.print(row_line(result, n, len(chosen), spent / n * (len(chosen) - n), width))
    attention = [r for r in results if r.status != "pass"]
    if attention:
        render_table(attention, out, title="not passed")
    out.print(summary_line(results, time.perf_counter() - started))
    for line in footer_lines(results):
        out.print(line, style="dim", markup=False)
    _write_json(results, args.json)
    return exit_status(results)


def _write_json(results: list, path: Path | None) -> None:
    if path is not None:
        import json

        path.write_text(json.dumps([r.to_json() for r in results], indent=2))


def cmd_watch(args) -> int:
    """Re-check an exercise every time one of its files is saved (Ctrl-C stops)."""
    try:
        from watchfiles import watch as watch_files
    except ImportError:
        raise UserError("watching needs watchfiles: pip install 'hubkit-learn[watch]'") from None
    from hubkit.check.report import render

    ws = _workspace(args.workspace)
    if ws is None:
        raise UserError("no hubkit workspace here: run `hubkit init` first")
    target = ws / args.exercise if args.exercise else ws
    if args.exercise:
        exmod.get_exercise(args.exercise)
    out = console()
    out.print(f"watching {target} (Ctrl-C to stop)", markup=False)
    known = {ex.id for ex in exmod.all_exercises()}
    for changes in watch_files(target):
        for eid in sorted({Path(p).relative_to(ws).parts[0] for _, p in changes} & known):
            render(grade(exmod.get_exercise(eid), ws, False, None, True, False), out)
    return EXIT_OK


# ------------------------------------------------------------------ runs

def cmd_runs(args) -> int:
    """List the training runs under runs/ (or FOLDER); with --plot, draw their curves."""
    from hubkit import runs as runsmod

    try:
        runsmod.command(args.targets, args.plot, args.out, console())
    except ValueError as err:
        raise UserError(str(err)) from None
    return EXIT_OK


# ------------------------------------------------------------------ tools

def _benchmarks_dir() -> Path | None:
    source_tree = Path(__file__).resolve().parents[2]
    candidates = [source_tree / "benchmarks", Path.cwd() / "benchmarks"]
    return next((c for c in candidates if c.is_dir()), None)


def cmd_bench(args) -> int:
    """Run benchmarks/bench_<op>.py with pytest-benchmark (from a source checkout)."""
    import subprocess

    folder = _benchmarks_dir()
    if folder is None:
        raise UserError("the benchmarks folder is not installed with the package: run "
                        "`hubkit bench` from a source checkout of hubkit")
    path = folder / f"bench_{args.op}.py"
    if not path.is_file():
        known = ", ".join(sorted(p.stem[6:] for p in folder.glob("bench_*.py"))) or "none"
        raise UserError(f"no benchmark {path.name} in {folder}; known: {known}")
    cmd = [sys.executable, "-m", "pytest", str(path), "--benchmark-only", "-q", *args.extra]
    return subprocess.call(cmd, cwd=folder.parent)


def cmd_doctor(args) -> int:
    """What this machine has: versions, compiled backends, CUDA, Triton, optional packages."""
    from hubkit.check.doctor import run

    return EXIT_FAILED if run(console(), strict=args.strict) else EXIT_OK


# ------------------------------------------------------------------ parser

def _version() -> str:
    import hubkit

    return f"hubkit {hubkit.__version__}"


class _VersionAction(argparse.Action):
    """`--version`: the version is read only when asked for (importlib.metadata is slow)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, help="Print the version and exit.")

    def __call__(self, parser, namespace, values, option_string=None):
        print(_version())
        parser.exit()


def _add(sub, name: str, fn, help_: str, **kw) -> argparse.ArgumentParser:
    p = sub.add_parser(name, help=help_, description=fn.__doc__, **kw)
    p.set_defaults(fn=fn)
    return p


def _workspace_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workspace", "-w", type=Path, default=None,
                   help="Workspace folder (default: the one holding the current directory, "
                   "or $HUBKIT_WORKSPACE).")


def build_parser() -> argparse.ArgumentParser:
    """The `hubkit` argument parser, one sub-parser per command."""
    parser = argparse.ArgumentParser(prog="hubkit",
                                     description="hubkit: learn deep learning by building it.")
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    p = _add(sub, "list", cmd_list, "The curriculum with every exercise and its status.")
    _workspace_option(p)
    p = _add(sub, "init", cmd_init, "Create a workspace with every exercise's starter.")
    p.add_argument("directory", nargs="?", type=Path, default=Path("hubkit-workspace"),
                   help="Folder to create (default: hubkit-workspace).")
    p.add_argument("--force", action="store_true",
                   help="Write into a non-empty folder that is not a workspace.")
    p = _add(sub, "hint", cmd_hint, "The next hint for an exercise.")
    p.add_argument("exercise", help="e.g. conv2d_numpy")
    _workspace_option(p)
    _check_parser(sub)
    p = _add(sub, "watch", cmd_watch, "Re-check an exercise on every save.")
    p.add_argument("exercise", nargs="?", default=None, help="Only this exercise.")
    _workspace_option(p)
    p = _add(sub, "progress", cmd_progress, "The curriculum's objectives, ticked by your passes.")
    p.add_argument("--history", metavar="EXERCISE", default=None,
                   help="Show your passing attempts of EXERCISE and their speed as a table "
                   "and a plot.")
    p.add_argument("--out", type=Path, default=None,
                   help="With --history: where to write the PNG (default: "
                   "WORKSPACE/history/EXERCISE.png).")
    _workspace_option(p)
    p = _add(sub, "runs", cmd_runs, "Training runs: list them, or plot their curves.")
    p.add_argument("targets", nargs="*", metavar="FOLDER | RUN",
                   help="Listing: the folder to search (default: runs). With --plot: the runs "
                   "to draw (default: every run under runs/).")
    p.add_argument("--plot", metavar="METRIC", default=None,
                   help="Draw METRIC (several: comma-separated, one panel each) for the runs.")
    p.add_argument("--out", type=Path, default=None, help="With --plot: the PNG to write.")
    p = _add(sub, "bench", cmd_bench, "Run benchmarks/bench_OP.py (pytest-benchmark).")
    p.add_argument("op", help="Op name, e.g. bias_gelu.")
    p.add_argument("extra", nargs=argparse.REMAINDER, help="Extra pytest arguments.")
    p = _add(sub, "doctor", cmd_doctor, "What this machine has: backends, CUDA, Triton, packages.")
    p.add_argument("--strict", action="store_true",
                   help="Exit 1 when a compiled extension (_C, _mujoco; _cuda if HUBKIT_CUDA=ON "
                   "was set) is missing: for CI, before the tests.")
    from hubkit.agents.cli import add_commands  # serve, agents: light parsers (argparse only)
    add_commands(sub, _add)
    from hubkit.search.cli import add_commands as add_search  # search index|query (light)
    add_search(sub, _add)
    return parser


def _check_parser(sub) -> None:
    p = _add(sub, "check", cmd_check, "Grade your implementation (or --all).",
             epilog=CHECK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("exercise", nargs="?", default=None, help="e.g. bias_gelu_cpp")
    p.add_argument("--all", action="store_true", help="Grade every exercise.")
    p.add_argument("--only", metavar="PATTERN", default=None,
                   help="With --all: only exercises whose id matches PATTERN (e.g. 'conv2d_*').")
    p.add_argument("--solution", action="store_true", help="Grade hubkit's own answer.")
    p.add_argument("--seed", type=int, default=None, help="Replay a run with this seed.")
    p.add_argument("--no-time", action="store_true",
                   help="Skip timing (correctness only; quicker for first versions).")
    p.add_argument("--fast", action="store_true", help="Fewer, smaller cases.")
    p.add_argument("--self-test", action="store_true",
                   help="For exercise authors: every solution passes, every starter is not "
                   "implemented yet, every wrong version and cheat is rejected as expected.")
    p.add_argument("--json", type=Path, default=None, help="Write the results here as JSON.")
    _workspace_option(p)


def main(argv: list[str] | None = None) -> int:
    """Console entry point (`hubkit = "hubkit.cli:main"`); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "fn"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.fn(args)
    except (UserError, exmod.ExerciseError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
