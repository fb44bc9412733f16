"""Terminal reports: one verdict in detail, and the streamed rows of `check --all`.

Speed is shown as the learner reads it (hubkit.check.speed): a ratio with its
95% confidence interval, the direction in words, each provider named for what
it is, and a warning when the machine was too busy to tell. Timings in the
older medians-only shape ({"providers": {name: {"median_ms": ...}}}) are
still shown, as a table and plain ratios.

This module imports neither torch nor numpy at import time.
"""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from hubkit.check.result import Result

STYLE = {"pass": "bold green", "fail": "bold red", "not_implemented": "yellow",
         "error": "bold red", "crash": "bold red", "timeout": "bold red",
         "compile_error": "bold red", "not_run": "cyan", "skipped": "yellow",
         "not started": "dim"}
LABEL = {"pass": "PASS", "fail": "FAIL", "not_implemented": "NOT IMPLEMENTED YET",
         "error": "ERROR", "crash": "CRASH", "timeout": "TIMEOUT",
         "compile_error": "COMPILE ERROR", "not_run": "NOT RUN",
         "skipped": "SKIPPED", "not started": "NOT STARTED"}
# Statuses that are neither a pass nor a failure: shown apart, counted apart.
UNGRADED = ("not_run", "skipped", "not started")


def verdict_text(status: str) -> Text:
    return Text(LABEL.get(status, status), style=STYLE.get(status, ""))


def describe_machine(machine: dict) -> str:
    """One line describing where a result ran (hubkit.check.timing.describe)."""
    from hubkit.check.timing import describe

    try:
        return describe(machine)
    except KeyError:  # an older or partial record
        return ", ".join(f"{k} {v}" for k, v in machine.items() if isinstance(v, (str, int)))


def speed_summary(result: Result) -> dict | None:
    """hubkit.check.speed.summarize of a result's per-round timings, or None (old shape,
    or not timed)."""
    from hubkit.check import speed

    if not speed.is_new_shape(result.timings):
        return None
    subject = {"learner": None, "solution": "hubkit's solution",
               "starter": "The starter"}.get(result.impl, f"This version ({result.impl})")
    try:
        return speed.summarize(result.timings, result.machine, subject)
    except (KeyError, ValueError):  # a baseline that never ran, no paired rounds
        return None


def _provider_table(title: str, providers: dict) -> Table:
    table = Table(title=title, title_justify="left")
    for col in ("provider", "median ms", "spread (IQR) ms", "runs"):
        table.add_column(col, justify="left" if col == "provider" else "right")
    for name, s in providers.items():
        table.add_row(Text(s.get("description") or name), f"{s['median_ms']:.3f}",
                      f"{s['iqr_ms']:.3f}",
                      str(s["runs"]))
    return table


def _old_speed_line(timings: dict) -> str:
    parts = []
    for other in ("reference", "shipped"):
        ratio = timings.get(f"speedup_vs_{other}")
        if ratio is not None:
            parts.append(f"{ratio:.2f}x the speed of {other}")
    return "; ".join(parts)


def _not_timed(timings: dict) -> list[Text]:
    failed = timings.get("skipped") or timings.get("failed") or {}
    return [Text(f"{name} not timed: {why}", style="dim") for name, why in failed.items()]


def speed_lines(result: Result) -> list:
    """The speed part of a report: a provider table, one sentence per comparison,
    the busy warnings and the suspicious flag."""
    timings = result.timings or {}
    title = f"speed on {timings['case']}" if timings.get("case") else "speed"
    summary = speed_summary(result)
    if summary is None:  # old shape: medians only
        body = [_provider_table(title, timings.get("providers", {}))]
        line = _old_speed_line(timings)
        return body + ([Text(line)] if line else []) + _not_timed(timings)
    body = [_provider_table(f"{title} ({summary['comparisons'][0]['rounds']} interleaved "
                            "rounds)" if summary["comparisons"] else title,
                            summary["providers"])]
    body += [Text(c["sentence"], style="bold" if i == 0 else "") for i, c in
             enumerate(summary["comparisons"])]
    body += [Text("warning: " + w, style="yellow") for w in summary["warnings"]]
    if summary["suspicious"]:
        body.append(Text("suspicious: " + summary["suspicious_why"], style="bold red"))
    return body + _not_timed(timings)


def render(result: Result, console: Console | None = None) -> None:
    """Print one result: verdict, diagnostics, replay seed, timings, machine."""
    console = console or Console()
    body: list = []
    if result.message:
        body.append(Text(result.message))
    body += [Text(n, style="green") for n in result.notes]
    if result.timings:
        body += speed_lines(result)
    if result.output.strip() and not result.passed:
        body.append(Text("your code printed:\n" + result.output.strip()[-1500:], style="dim"))
    body.append(Text(f"seed {result.seed} (replay: hubkit check {result.exercise} --seed "
                     f"{result.seed}); {result.elapsed_s:.1f} s", style="dim"))
    if result.machine:
        body.append(Text(f"machine: {describe_machine(result.machine)}", style="dim"))
    title = Text.assemble(f"{result.exercise} ({result.impl}, {result.backend or result.kind}): ",
                          verdict_text(result.status))
    console.print(Panel(Group(*body), title=title, title_align="left"))


def speed_cell(result: Result) -> str:
    """A short speed phrase for one row: '1.6x slower', '2.3x faster', 'same speed'
    (with '?' when the machine was busy), or '-' when not timed."""
    if not result.timings:
        return "-"
    summary = speed_summary(result)
    if summary is None:
        ratio = result.timings.get("speedup_vs_reference")
        return f"{ratio:.2f}x ref speed" if ratio else "-"
    if "verdict" not in summary:
        return "-"
    ratio, word = summary["ratio"], summary["verdict"]
    text = {"slower": f"{ratio:.1f}x slower", "faster": f"{1 / ratio:.1f}x faster",
            "indistinguishable": "same speed"}[word]
    return text + ("?" if summary["busy"] else "") + ("!" if summary["suspicious"] else "")


def short_error(result: Result, width: int = 60) -> str:
    """One short phrase for a row: the hint if there is one, else the first line."""
    if result.status in ("pass", "not started"):
        return ""
    lines = [ln.strip() for ln in result.message.splitlines() if ln.strip()]
    if result.status == "not_run" and not lines:
        return "compiled; not run: no CUDA device here"
    hints = [ln[len("hint: "):] for ln in lines if ln.startswith("hint: ")]
    text = hints[0] if hints else (lines[0] if lines else "")
    if text.startswith("case ") and ": " in text:
        text = text.split(": ", 1)[1]
    return text if len(text) <= width else text[: width - 3] + "..."


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


def row_line(result: Result, n: int, total: int, eta_s: float | None,
             id_width: int = 24) -> Text:
    """One streamed `check --all` row, printed as soon as the exercise finishes.

    Example:
        >>> r = Result("conv2d_numpy", "solution", "python", "pass", elapsed_s=3.2)
        >>> print(row_line(r, 3, 27, 90.0, id_width=12).plain)
        [ 3/27] conv2d_numpy python         PASS                -               3.2s  ETA 1m30s
    """
    eta = f"ETA {_clock(eta_s)}" if eta_s is not None and n < total else "done"
    counter = f"[{n:>{len(str(total))}}/{total}]"
    # subtle: Text pieces, not markup, so a message such as "hubkit[all]" prints literally
    line = Text.assemble(f"{counter} {result.exercise:<{id_width}} ",
                         f"{(result.backend or result.kind):<14} ",
                         (f"{LABEL.get(result.status, result.status):<19}",
                          STYLE.get(result.status, "")),
                         f" {speed_cell(result):<13} {result.elapsed_s:>5.1f}s  {eta}")
    error = short_error(result)
    if error:
        line.append(f"\n{' ' * (len(counter) + 1)}{error}", style="dim")
    return line


def counts(results: list[Result]) -> dict[str, int]:
    """{"passed", "failed", "skipped", "not run", "not started"}: how the rows ended."""
    out = {"passed": 0, "failed": 0, "skipped": 0, "not run": 0, "not started": 0}
    for r in results:
        key = {"pass": "passed", "skipped": "skipped", "not_run": "not run",
               "not started": "not started"}.get(r.status, "failed")
        out[key] += 1
    return out


def summary_line(results: list[Result], elapsed_s: float) -> Text:
    """'27 exercises in 151.2 s: 24 passed, 1 failed, 1 skipped, 1 not run'."""
    parts = [f"{v} {k}" for k, v in counts(results).items() if v or k in ("passed", "failed")]
    return Text(f"{len(results)} exercises in {elapsed_s:.1f} s: " + ", ".join(parts),
                style="bold")


def machines_line(results: list[Result]) -> str:
    """'on: <machine>' (or one line per machine when rows ran on several)."""
    machines = sorted({describe_machine(r.machine) for r in results if r.machine})
    return "\n".join(f"on: {m}" for m in machines)


def footer_lines(results: list[Result]) -> list[str]:
    """The machine line(s), then what a '?' or '!' in the speed column means, if any shows."""
    marks = "".join(speed_cell(r)[-2:] for r in results)
    legend = [f"{mark} after a speed: {why}; `hubkit check <id>` shows the timings"
              for mark, why in (("?", "the machine was busy, so the ratio may be noise"),
                                ("!", "implausibly fast for this machine (suspicious)"))
              if mark in marks]
    return [m for m in machines_line(results).split("\n") if m] + legend


def render_table(results: list[Result], console: Console | None = None,
                 title: str | None = None) -> None:
    """A table of results: exercise, backend, verdict, error, speed (the recap after
    `check --all`'s streamed rows)."""
    console = console or Console()
    impls = sorted({r.impl for r in results})
    table = Table(title=title or f"hubkit check --all ({', '.join(impls)})",
                  title_justify="left")
    for col in ("exercise", "backend", "verdict", "error", "speed"):
        wide = col == "error"
        table.add_column(col, overflow="fold", no_wrap=not wide, ratio=1 if wide else None,
                         min_width=8 if wide else None)
    for r in results:
        # subtle: Text() so a message such as "hubkit[all]" is not read as rich markup
        table.add_row(Text(r.exercise), Text(r.backend or r.kind), verdict_text(r.status),
                      Text(short_error(r)), speed_cell(r))
    console.print(table)
