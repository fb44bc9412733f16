"""Rich terminal reports: one verdict in detail, or a table for `check --all`."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hubkit.check.result import Result
from hubkit.check.timing import describe

STYLE = {"pass": "bold green", "fail": "bold red", "not_implemented": "yellow",
         "error": "bold red", "crash": "bold red", "timeout": "bold red",
         "compile_error": "bold red", "not_run": "cyan", "skipped": "yellow",
         "not started": "dim"}
LABEL = {"pass": "PASS", "fail": "FAIL", "not_implemented": "NOT IMPLEMENTED YET",
         "error": "ERROR", "crash": "CRASH", "timeout": "TIMEOUT",
         "compile_error": "COMPILE ERROR", "not_run": "COMPILED",
         "skipped": "SKIPPED", "not started": "not started"}


def verdict_text(status: str) -> Text:
    return Text(LABEL.get(status, status), style=STYLE.get(status, ""))


def _timing_table(timings: dict) -> Table:
    table = Table(title=f"speed on {timings.get('case', '')}", title_justify="left")
    for col in ("provider", "median ms", "spread (IQR) ms", "runs"):
        table.add_column(col, justify="left" if col == "provider" else "right")
    for name, s in timings.get("providers", {}).items():
        table.add_row(name, f"{s['median_ms']:.3f}", f"{s['iqr_ms']:.3f}", str(s["runs"]))
    return table


def _speed_line(timings: dict) -> str:
    parts = []
    for other in ("reference", "shipped"):
        ratio = timings.get(f"speedup_vs_{other}")
        if ratio is not None:
            parts.append(f"{ratio:.2f}x vs {other}")
    for name, why in timings.get("skipped", {}).items():
        parts.append(f"{name} not timed: {why}")
    return "; ".join(parts)


def render(result: Result, console: Console | None = None) -> None:
    """Print one result: verdict, diagnostics, replay seed, timings, machine."""
    console = console or Console()
    body: list = []
    if result.message:
        body.append(Text(result.message))
    body += [Text(n, style="green") for n in result.notes]
    if result.timings:
        body += [_timing_table(result.timings), Text(_speed_line(result.timings))]
    if result.output.strip() and not result.passed:
        body.append(Text("your code printed:\n" + result.output.strip()[-1500:], style="dim"))
    body.append(Text(f"seed {result.seed} (replay: hubkit check {result.exercise} --seed "
                     f"{result.seed}); {result.elapsed_s:.1f} s", style="dim"))
    if result.machine:
        body.append(Text(f"machine: {describe(result.machine)}", style="dim"))
    title = Text.assemble(f"{result.exercise} ({result.impl}, {result.backend or result.kind}): ",
                          verdict_text(result.status))
    console.print(Panel(Group(*body), title=title, title_align="left"))


def _speedup_cell(result: Result) -> str:
    if not result.timings:
        return "-"
    ratio = result.timings.get("speedup_vs_reference")
    return f"{ratio:.2f}x" if ratio else "-"


def short_error(result: Result, width: int = 60) -> str:
    """One short phrase for a table cell: the hint if there is one, else the first line."""
    if result.status in ("pass", "not started"):
        return ""
    if result.status == "not_run":
        return "not run: no CUDA device"
    lines = [ln.strip() for ln in result.message.splitlines() if ln.strip()]
    hints = [ln[len("hint: "):] for ln in lines if ln.startswith("hint: ")]
    text = hints[0] if hints else (lines[0] if lines else "")
    if text.startswith("case ") and ": " in text:
        text = text.split(": ", 1)[1]
    return text if len(text) <= width else text[: width - 3] + "..."


def render_table(results: list[Result], console: Console | None = None) -> None:
    """The `check --all` table: exercise, backend, verdict, error, speedup vs reference, machine."""
    console = console or Console()
    impls = sorted({r.impl for r in results})
    table = Table(title=f"hubkit check --all ({', '.join(impls)})", title_justify="left")
    for col in ("exercise", "backend", "verdict", "error", "vs ref", "on"):
        wide = col == "error"
        table.add_column(col, overflow="fold", no_wrap=not wide, ratio=1 if wide else None,
                         min_width=8 if wide else None)
    machines = {describe(r.machine) for r in results if r.machine}
    short = {m: f"M{i + 1}" for i, m in enumerate(sorted(machines))}
    for r in results:
        error = short_error(r)
        machine = short.get(describe(r.machine), "-") if r.machine else "-"
        # subtle: Text() so a message such as "hubkit[all]" is not read as rich markup
        table.add_row(Text(r.exercise), Text(r.backend or r.kind), verdict_text(r.status),
                      Text(error), _speedup_cell(r), machine)
    console.print(table)
    for m, tag in short.items():
        console.print(f"[dim]{tag}: {m}[/dim]")
