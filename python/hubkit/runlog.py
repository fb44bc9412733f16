"""What every long-running hubkit script shares: `--out`, a progress line with an ETA, "wrote ...".

A training script is a plain `argparse` program built from three pieces:

* `parser(prog, doc)` gives `--out DIR` (default `runs/<name>-<YYYYmmdd-HHMMSS>/`,
  made only when something is written) and `--quiet`;
* `Progress(total, desc)` prints one line per update on a terminal (rewritten
  in place) or every few seconds when piped, with n/N, the latest metrics, the
  rate and an ETA, and a last line when it closes;
* `Outputs` remembers every file written and `report()` lists them at the end.

`quiet_third_party()` silences the warning spam of libraries a run uses
(MuJoCo's deprecations, transformers' advisory logs) without hiding hubkit's own.

Example:
    >>> import io
    >>> from hubkit import runlog
    >>> buf = io.StringIO()
    >>> with runlog.Progress(3, "epoch", stream=buf, min_interval=0) as bar:
    ...     for i in range(3):
    ...         bar.update(loss=1.0 / (i + 1))
    >>> "epoch 3/3" in buf.getvalue()
    True
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def default_out(name: str, root: str | os.PathLike = "runs") -> Path:
    """`runs/<name>-<YYYYmmdd-HHMMSS>/` (not created here)."""
    return Path(root) / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


def parser(prog: str, doc: str | None, name: str) -> argparse.ArgumentParser:
    """An ArgumentParser with the flags every hubkit run takes.

    Args:
        prog: shown in usage, e.g. "python -m hubkit.cnn.train".
        doc: the module docstring; its first paragraph becomes the description.
        name: short run name used in the default output folder.
    """
    text = (doc or "").strip()
    head, _, rest = text.partition("\n\n")
    p = argparse.ArgumentParser(prog=prog, description=head, epilog=rest or None,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    return add_arguments(p, name)


def add_arguments(p: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    """Add `--out` and `--quiet` to `p` (a parser or a sub-command's parser)."""
    p.add_argument("--out", type=Path, default=None,
                   help=f"folder for everything the run writes (default: runs/{name}-<time>/)")
    p.add_argument("--quiet", action="store_true", help="no progress lines, only the summary")
    p.set_defaults(_run_name=name)
    return p


class Outputs:
    """The run's output folder, made on first use, and the list of files written into it."""

    def __init__(self, out: str | os.PathLike | None, name: str) -> None:
        self.root = Path(out) if out is not None else default_out(name)
        self.written: list[Path] = []

    def folder(self) -> Path:
        """The output folder, created if needed."""
        self.root.mkdir(parents=True, exist_ok=True)
        return self.root

    def path(self, filename: str) -> Path:
        """Where to write `filename`; the folder is created, the file recorded."""
        p = self.folder() / filename
        self.written.append(p)
        return p

    def add(self, paths) -> None:
        """Record files that a helper wrote into `folder()` itself."""
        self.written.extend(Path(p) for p in paths)

    def report(self, stream: IO[str] | None = None) -> None:
        """Print "wrote <folder>/" and one line per file."""
        stream = stream or sys.stdout
        if not self.written:
            print("wrote nothing", file=stream)
            return
        print(f"wrote {len(self.written)} file(s) under {self.root}/:", file=stream)
        for p in self.written:
            print(f"  {p}", file=stream)


def _fmt_seconds(s: float) -> str:
    s = max(0, int(round(s)))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _fmt_metrics(metrics: dict[str, object]) -> str:
    parts = []
    for k, v in metrics.items():
        parts.append(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}")
    return "  ".join(parts)


class Progress:
    """n/N, metrics, rate and ETA on one line; in place on a terminal, every few seconds piped.

    Args:
        total: number of updates expected (epochs, steps, episodes).
        desc: what is counted ("epoch", "step").
        stream: where to print (stderr by default, so stdout stays the summary).
        min_interval: seconds between printed lines when not on a terminal.
        enabled: False prints nothing (for `--quiet`).
    """

    def __init__(self, total: int, desc: str, *, stream: IO[str] | None = None,
                 min_interval: float = 5.0, enabled: bool = True) -> None:
        self.total, self.desc, self.n = max(int(total), 1), desc, 0
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.min_interval, self.enabled = (0.1 if self.tty else min_interval), enabled
        self.start = self._last = time.monotonic()
        self.metrics: dict[str, object] = {}

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def line(self) -> str:
        elapsed = time.monotonic() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.n) / rate if rate > 0 else float("nan")
        eta_text = _fmt_seconds(eta) if eta == eta else "?"
        head = f"{self.desc} {self.n}/{self.total}"
        return f"{head}  {_fmt_metrics(self.metrics)}  [{_fmt_seconds(elapsed)} < {eta_text}]"

    def update(self, n: int = 1, **metrics: object) -> None:
        """Advance by `n` and show `metrics` (the latest value of each)."""
        self.n += n
        self.metrics.update(metrics)
        now = time.monotonic()
        if self.enabled and (now - self._last >= self.min_interval or self.n >= self.total):
            self._print()
            self._last = now

    def log(self, text: str) -> None:
        """A permanent line (e.g. one per epoch) that does not break the progress line."""
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r\x1b[2K")
        print(text, file=self.stream, flush=True)

    def _print(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + self.line())
            self.stream.flush()
        else:
            print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        if self.enabled and self.tty:
            self.stream.write("\n")
            self.stream.flush()


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Hide DeprecationWarning/FutureWarning/UserWarning raised from outside hubkit."""
    with warnings.catch_warnings():
        for category in (DeprecationWarning, FutureWarning, UserWarning):
            warnings.filterwarnings("ignore", category=category)
            warnings.filterwarnings("default", category=category, module=r"hubkit(\.|$)")
        yield
