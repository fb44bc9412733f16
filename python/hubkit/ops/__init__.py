"""hubkit's optimized ops, one import away: `hubkit.ops.<name>(..., backend=None)`.

A thin facade: each op lives in its topic slice (`hubkit.<topic>.ops`).
"""

from hubkit._backend import (
    BACKENDS,
    BackendUnavailableError,
    available_backends,
    use_backend,
)
from hubkit.activations.ops import bias_gelu
from hubkit.peft.ops import lora_linear

__all__ = [
    "BACKENDS",
    "BackendUnavailableError",
    "available_backends",
    "bias_gelu",
    "lora_linear",
    "use_backend",
]
