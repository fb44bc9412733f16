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

Experiment tracking: `tracker(args, outputs)` opens a `Tracker` with three
methods, `log(step, **metrics)`, `config(dict)` and `close()`. It always writes
`metrics.jsonl` into the run's folder (nothing to install); `--log` adds other
backends: `tensorboard` (event files under `tensorboard/`), `wandb` (offline,
no account: a run under `wandb/`, unless WANDB_MODE says otherwise) and
`mlflow` (a local store under `mlruns/`). Repeat `--log` or separate names with
commas. A backend that is not installed stops the run before it starts, with
the pip command that installs it. `Progress(..., tracker=t)` sends every
`update(**metrics)` to the tracker too, so a loop that shows its metrics also
logs them; `update(0, **metrics)` logs without advancing.

The JSONL format (`metrics.jsonl`): one JSON object per line, UTF-8.
  * The first line is a config record:
    {"run": "cnn-digits-20261201-120000", "started": "2026-12-01T12:00:00+00:00",
     "config": {"epochs": 10, ...}}
    Any later line with a "config" key adds to (and overrides) the run's config.
  * Every other line is one measurement:
    {"step": 120, "time": 4.52, "loss": 0.31, "test_accuracy": 0.97}
    "step" is the script's own counter (an epoch, an optimizer or env step),
    "time" the seconds since the run started; the other keys are metrics,
    numbers (null where a value was NaN or infinite) or short string labels
    (e.g. "method": "lora"). Steps need not be increasing: a script that
    trains several variants prefixes their metric names ("learned/loss").
`hubkit runs` lists the runs under runs/ and plots their curves.

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
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
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
    p.add_argument("--log", action="append", type=_backend_names, default=None,
                   metavar="BACKEND", help="also log metrics to " + ", ".join(BACKENDS[1:])
                   + " (repeat or comma-separate; metrics.jsonl is always written)")
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
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


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
        tracker: also `tracker.log(n, **metrics)` on update (tracking works with `--quiet`).
        track_every: log one update in this many (e.g. 100 for per-env-step updates);
            the last one and `update(0, ...)` are always logged.
    """

    def __init__(self, total: int, desc: str, *, stream: IO[str] | None = None,
                 min_interval: float = 5.0, enabled: bool = True,
                 tracker: Tracker | _Prefixed | None = None, track_every: int = 1) -> None:
        self.total, self.desc, self.n = max(int(total), 1), desc, 0
        self.tracker, self.track_every = tracker, max(int(track_every), 1)
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
        before, self.n = self.n, self.n + n
        self.metrics.update(metrics)
        if self.tracker is not None and metrics and (
                n == 0 or self.n >= self.total
                or self.n // self.track_every > before // self.track_every):
            self.tracker.log(self.n, **metrics)
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


# ------------------------------------------------------------------ missing packages

# An optional package's top-level module -> the hubkit-learn extra that installs it.
OPTIONAL_EXTRAS = {"matplotlib": "plot", "gymnasium": "gym", "mujoco": "gym", "imageio": "gym",
                   "sklearn": "data", "scipy": "data", "transformers": "llm",
                   "safetensors": "llm", "tiktoken": "llm", "regex": "llm", "triton": "triton",
                   "ale_py": "atari"}


def run_main(main) -> None:
    """Run a training script's `main()`; an optional package it lacks ends the run with one
    line naming the extra that installs it (exit status 1), never a traceback."""
    try:
        main()
    except ImportError as err:
        top = (err.name or "").split(".")[0]
        if top not in OPTIONAL_EXTRAS:
            if "pip install" in str(err):  # hubkit's own message already says what to do
                raise SystemExit(f"error: {err}") from None
            raise
        raise SystemExit(f"error: {err}; it comes with pip install "
                         f"'hubkit-learn[{OPTIONAL_EXTRAS[top]}]'") from None


# ------------------------------------------------------------------ experiment tracking

BACKENDS = ("jsonl", "tensorboard", "wandb", "mlflow")
# backend -> (module to import, pip package); jsonl needs nothing
_NEEDS = {"tensorboard": ("tensorboard", "tensorboard"), "wandb": ("wandb", "wandb"),
          "mlflow": ("mlflow", "mlflow")}
METRICS_FILE = "metrics.jsonl"


class BackendMissing(ImportError):
    """A tracking backend was asked for but its package is not installed."""


def _backend_names(text: str) -> list[str]:
    """`--log` value: one name or several separated by commas."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in BACKENDS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown backend {', '.join(bad) or repr(text)}; choose from {', '.join(BACKENDS)}")
    return names


def require_backend(name: str) -> None:
    """Raise BackendMissing, naming the pip command, if backend `name` cannot be imported."""
    import importlib.util

    if name not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name in _NEEDS and importlib.util.find_spec(_NEEDS[name][0]) is None:
        extra = " (or pip install 'hubkit-learn[track]')" if name != "mlflow" else ""
        raise BackendMissing(f"--log {name} needs the {_NEEDS[name][1]} package, which is not "
                             f"installed: pip install {_NEEDS[name][1]}{extra}")


def _metric_value(key: str, value: object) -> float | int | str | None:
    """A JSON-safe metric: ints and strings kept, floats (or tensors) as float, NaN/inf None."""
    if isinstance(value, (str, bool)) or (isinstance(value, int)):
        return int(value) if isinstance(value, bool) else value
    try:
        x = float(value)  # floats, NumPy scalars, one-element tensors
    except (TypeError, ValueError):
        raise TypeError(f"metric {key!r} must be a number or a string, "
                        f"got {type(value).__name__}") from None
    return x if math.isfinite(x) else None


def _json_config(values: dict) -> dict:
    """`values` made JSON-safe (paths, tuples, dataclass fields of odd types as text)."""
    return json.loads(json.dumps(dict(values), default=str))


class _JsonlSink:
    def __init__(self, folder: Path, header: dict) -> None:
        self.path = folder / METRICS_FILE
        self.file = self.path.open("w", encoding="utf-8")
        self._write(header)

    def _write(self, record: dict) -> None:
        # subtle: flushed line by line so that a crashed run keeps its curve and
        # `hubkit runs` can read a run that is still going.
        self.file.write(json.dumps(record) + "\n")
        self.file.flush()

    def config(self, values: dict) -> None:
        self._write({"config": values})

    def log(self, step: int, seconds: float, metrics: dict) -> None:
        self._write({"step": step, "time": round(seconds, 3), **metrics})

    def close(self) -> None:
        self.file.close()


def _numbers(metrics: dict) -> dict[str, float]:
    """The numeric metrics (backends other than JSONL take no string labels)."""
    return {k: float("nan") if v is None else v for k, v in metrics.items()
            if not isinstance(v, str)}


class _TensorBoardSink:
    def __init__(self, folder: Path, header: dict) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.path = folder / "tensorboard"
        self.writer = SummaryWriter(log_dir=str(self.path))
        self.config(header["config"])

    def config(self, values: dict) -> None:
        text = "```\n" + json.dumps(values, indent=1) + "\n```"  # markdown in the Text tab
        self.writer.add_text("config", text)

    def log(self, step: int, seconds: float, metrics: dict) -> None:
        for key, value in _numbers(metrics).items():
            self.writer.add_scalar(key, value, global_step=step)

    def close(self) -> None:
        self.writer.close()


class _WandbSink:
    def __init__(self, folder: Path, header: dict) -> None:
        import wandb

        self.path = folder / "wandb"
        self.path.mkdir(parents=True, exist_ok=True)
        # subtle: console="off" keeps wandb from wrapping stdout/stderr (the progress line)
        self.run = wandb.init(project=os.environ.get("WANDB_PROJECT", "hubkit"),
                              name=header["run"], dir=str(folder), config=header["config"],
                              mode=os.environ.get("WANDB_MODE", "offline"),
                              settings=wandb.Settings(console="off", silent=True))

    def config(self, values: dict) -> None:
        self.run.config.update(values, allow_val_change=True)

    def log(self, step: int, seconds: float, metrics: dict) -> None:
        # subtle: wandb drops a step= lower than one already logged, and our steps
        # may restart (several variants in one run); "step" goes in as a metric.
        self.run.log({"step": step, **_numbers(metrics)})

    def close(self) -> None:
        self.run.finish()


class _MlflowSink:
    def __init__(self, folder: Path, header: dict) -> None:
        from mlflow.tracking import MlflowClient

        self.path = folder / "mlruns"
        self.client = MlflowClient(tracking_uri=self.path.resolve().as_uri())
        exp = self.client.get_experiment_by_name("hubkit")
        exp_id = exp.experiment_id if exp else self.client.create_experiment("hubkit")
        self.run_id = self.client.create_run(exp_id, run_name=header["run"]).info.run_id
        self.config(header["config"])

    def config(self, values: dict) -> None:
        for key, value in values.items():
            self.client.log_param(self.run_id, key, json.dumps(value)[:500])

    def log(self, step: int, seconds: float, metrics: dict) -> None:
        for key, value in _numbers(metrics).items():
            self.client.log_metric(self.run_id, key.replace("/", "_"), value, step=step)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


_SINKS = {"jsonl": _JsonlSink, "tensorboard": _TensorBoardSink, "wandb": _WandbSink,
          "mlflow": _MlflowSink}


class Tracker:
    """The metrics of one run, sent to every chosen backend; JSONL always.

    Args:
        folder: the run's folder (created).
        backends: names from BACKENDS; "jsonl" is added if missing.
        name: the run's name (default: the folder's name).
        config: the first config record (e.g. the command-line flags).

    Raises:
        BackendMissing: a backend's package is not installed (nothing is created then).

    Example:
        >>> import json, tempfile
        >>> with Tracker(tempfile.mkdtemp(), config={"lr": 0.1}) as t:
        ...     t.log(1, loss=0.5)
        >>> rows = [json.loads(line) for line in t.path.read_text().splitlines()]
        >>> rows[0]["config"], sorted(rows[1]), rows[1]["loss"]
        ({'lr': 0.1}, ['loss', 'step', 'time'], 0.5)
    """

    def __init__(self, folder: str | os.PathLike, backends=("jsonl",), *,
                 name: str | None = None, config: dict | None = None) -> None:
        chosen = list(dict.fromkeys(["jsonl", *backends]))
        for b in chosen:
            require_backend(b)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.start = time.monotonic()
        header = {"run": name or self.folder.resolve().name,
                  "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                  "config": _json_config(config or {})}
        self.sinks = [_SINKS[b](self.folder, header) for b in chosen]
        self.path = self.sinks[0].path  # metrics.jsonl
        self.files = [s.path for s in self.sinks]  # metrics.jsonl, tensorboard/, wandb/, mlruns/

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def config(self, values: dict) -> None:
        """Record the run's configuration (a dict; dataclasses via `dataclasses.asdict`)."""
        clean = _json_config(values)
        for s in self.sinks:
            s.config(clean)

    def log(self, step: int, **metrics: object) -> None:
        """Record `metrics` (numbers or short strings) at `step`."""
        clean = {k: _metric_value(k, v) for k, v in metrics.items()}
        seconds = time.monotonic() - self.start
        for s in self.sinks:
            s.log(int(step), seconds, clean)

    def prefixed(self, prefix: str) -> _Prefixed:
        """A view that logs `prefix + name` (e.g. "learned/" for a second variant)."""
        return _Prefixed(self, prefix)

    def close(self) -> None:
        """Flush and close every backend (safe to call twice)."""
        sinks, self.sinks = self.sinks, []
        for s in sinks:
            s.close()


class _Prefixed:
    """`Tracker.prefixed(...)`: the same run, metric names with a prefix."""

    def __init__(self, tracker: Tracker, prefix: str) -> None:
        self.tracker, self.prefix = tracker, prefix

    def log(self, step: int, **metrics: object) -> None:
        self.tracker.log(step, **{self.prefix + k: v for k, v in metrics.items()})


def tracker(args: argparse.Namespace, outputs: Outputs) -> Tracker:
    """The run's Tracker, from `--log` and `--out`; its files are added to `outputs`.

    The first config record holds the command-line flags. A backend that is not
    installed ends the program with one line naming the pip command.
    """
    chosen = [b for group in (getattr(args, "log", None) or []) for b in group]
    flags = {k: v for k, v in vars(args).items() if not k.startswith("_") and k != "log"}
    try:
        for b in chosen:  # before the folder is made
            require_backend(b)
        t = Tracker(outputs.folder(), chosen, name=outputs.root.name, config=flags)
    except BackendMissing as err:
        raise SystemExit(f"error: {err}") from None
    outputs.add(t.files)
    return t
