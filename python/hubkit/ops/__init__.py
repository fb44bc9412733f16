"""hubkit's optimized ops, one import away: `hubkit.ops.<name>(..., backend=None)`.

A thin facade: each op lives in its topic slice (`hubkit.<topic>.ops`).
"""

from hubkit._backend import (  # noqa: F401
    BACKENDS,
    BackendUnavailableError,
    available_backends,
    use_backend,
)
from hubkit.activations.ops import bias_gelu  # noqa: F401
from hubkit.attention.ops import attention  # noqa: F401
from hubkit.cnn.ops import conv2d  # noqa: F401
from hubkit.lm.ops import linear_cross_entropy  # noqa: F401
from hubkit.peft.ops import lora_linear  # noqa: F401
from hubkit.rl.gae import gae  # noqa: F401
from hubkit.rnn.ops import lstm  # noqa: F401
from hubkit.search.ops import topk_similarity  # noqa: F401

__all__ = sorted(name for name in dir() if not name.startswith("_"))
