"""Guards around learner code: forbidden torch ops and NaN-filled fresh allocations.

`LearnerGuard` is a TorchDispatchMode, so it sees every aten (and hubkit) op the
learner's Python code reaches, however it was spelled (`F.gelu`, `x.gelu()`,
`torch.ops.aten.gelu`). It does two things:

* an op in `forbidden` (e.g. "aten::gelu" in an exercise about writing GELU)
  raises CheckFailure, and is remembered even if the learner's code catches it;
* `torch.empty`-style allocations come back filled with NaN, so an output
  element the learner never writes cannot silently hold a stale right answer.
"""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from hubkit.check.spec import CheckFailure, fill_sentinel

_aten = torch.ops.aten
_EMPTY = {_aten.empty.memory_format, _aten.empty_like.default, _aten.empty_strided.default,
          _aten.new_empty.default, _aten.new_empty_strided.default}


class LearnerGuard(TorchDispatchMode):
    """Context manager; raises CheckFailure on exit if a forbidden op was called.

    Args:
        forbidden: op names such as "aten::gelu" or "hubkit::bias_gelu".
    """

    def __init__(self, forbidden=()) -> None:
        super().__init__()
        self.forbidden = frozenset(forbidden)
        self.violation: str | None = None

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func._schema.name
        if name in self.forbidden:
            self.violation = name
            raise CheckFailure(forbidden_message(name))
        out = func(*args, **kwargs)
        if func in _EMPTY and isinstance(out, torch.Tensor) and out.is_floating_point():
            fill_sentinel(out)
        return out

    def __exit__(self, exc_type, exc, tb):
        result = super().__exit__(exc_type, exc, tb)
        if self.violation is not None and exc_type is None:
            raise CheckFailure(forbidden_message(self.violation))
        return result


def forbidden_message(name: str) -> str:
    short = name.split("::")[-1]
    return (f"calls torch's own {short} ({name}), which this exercise asks you to write "
            "yourself: forbidden op")
