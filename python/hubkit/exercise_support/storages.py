"""Watch which tensors an op allocates: for specs that forbid materializing a big intermediate."""

from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode


class NewStorages(TorchDispatchMode):
    """Records every storage that torch ops create while active: data_ptr -> (numel, shape).

    Example:
        >>> with NewStorages() as watch:
        ...     _ = torch.ones(3, 4) @ torch.ones(4, 5)
        >>> sorted(n for n, _ in watch.made.values())  # two inputs and the product
        [12, 15, 20]
    """

    def __init__(self):
        super().__init__()
        self.made: dict[int, tuple[int, tuple]] = {}

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.device.type != "meta":
                s = t.untyped_storage()
                self.made.setdefault(s.data_ptr(), (s.nbytes() // t.element_size(),
                                                    tuple(t.shape)))
        return out
