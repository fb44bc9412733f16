"""The verdict of one check, as stored in the workspace's results JSON."""

from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, field
from typing import Any

# Every status a check can end in; only "pass" counts as a pass.
STATUSES = ("pass", "fail", "not_implemented", "error", "crash", "timeout", "compile_error",
            "not_run", "skipped")


@dataclass
class Result:
    """One graded implementation.

    Attributes:
        exercise: the exercise id.
        impl: "learner", "solution", "starter" or "wrong:<name>".
        kind: python, cpp, cuda or triton.
        status: one of STATUSES.
        message: the diagnostics (compiler output for compile_error), verbatim.
        seed: replays this run with `hubkit check ID --seed N`.
        backend: what ran ("cpp", "python", "triton-interp").
        timings: providers' medians/spreads and speedups, when timed.
        machine: description of where it ran.
        notes: extra lines for the report.
        output: the tail of what the code printed.
    """

    exercise: str
    impl: str
    kind: str
    status: str
    message: str = ""
    seed: int = 0
    backend: str = ""
    timings: dict[str, Any] | None = None
    machine: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    output: str = ""
    elapsed_s: float = 0.0
    when: str = field(default_factory=lambda: datetime.datetime.now(
        datetime.timezone.utc).isoformat(timespec="seconds"))

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def headline(self) -> str:
        """The first line of the message (for tables)."""
        return self.message.strip().splitlines()[0] if self.message.strip() else ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
