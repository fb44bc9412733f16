"""Winograd convolution F(m x m, 3 x 3) for the cpp backend of `hubkit.ops.conv2d`.

Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks" (2016),
https://arxiv.org/abs/1509.09308. A 3x3, stride-1 correlation is computed per
output tile of m x m pixels as Y = A^T [(G g G^T) * (B^T d B)] A; summed over
channels the elementwise products become (m + 2)^2 GEMMs of (tiles, C) @ (C, K).
The transforms and GEMMs run in csrc/conv2d/winograd.cpp; this module picks the
tile, caches the filter transforms and wires the gradients.

Precision, float32 against float64 (torch), randn x, kaiming-normal weights, C = K,
3x3, padding 1, N=2 (28x28 for C <= 128, 14x14 above): max |error| / max |y| and
RMS error / RMS y, from `benchmarks.bench_conv2d.error_table()`:

    C = K   im2col (cpp)      F(2,3)            F(4,3)            torch (oneDNN)
    64      5.3e-7 / 2.8e-7   3.5e-7 / 2.7e-7   7.0e-6 / 1.7e-6   3.2e-7 / 2.2e-7
    128     4.0e-7 / 2.8e-7   4.6e-7 / 3.6e-7   1.1e-5 / 2.3e-6   2.9e-7 / 2.2e-7
    256     3.3e-7 / 2.9e-7   6.4e-7 / 5.0e-7   1.0e-5 / 2.9e-6   2.6e-7 / 2.2e-7
    512     3.3e-7 / 2.9e-7   8.6e-7 / 7.0e-7   1.5e-5 / 4.1e-6   3.2e-7 / 2.4e-7

F(2,3) is as accurate as im2col; F(4,3) loses about 3 bits (its transforms carry
coefficients up to 8). The tolerance policy is the checker's (hubkit.check.compare:
2e-6 * sqrt(reduction length) of the output scale: 4.8e-5 at C=64, 6.8e-5 at
C=128, 1.4e-4 at C=512), which F(4,3) meets with 6-9x room; it also stays inside the fixed 2e-5 of
the largest output that tests/cnn/test_conv2d_op.py uses, up to C=512. So the
default is F(4,3): 2.25 multiplies per output against F(2,3)'s 4 and im2col's 9.
In float64 both tiles are exact up to rounding (~1e-15 relative). The gradients,
same inputs and randn grad_y, max |error| / max |true gradient| at C = 64 / 128:
grad_x 5.4e-6 / 1.1e-5 and grad_w 6.6e-6 / 5.9e-6 with F(4,3), against
3.4e-7 / 5.0e-7 and 1.1e-6 / 7.9e-7 with F(2,3) and 1.5e-6 for torch's grad_w.

Gradients: grad_x is itself a 3x3 stride-1 correlation, of grad_y with the filters
transposed (K <-> C) and rotated 180 degrees, at padding 2 - pad, so it runs through
the same kernel. grad_weight is reduced in the Winograd domain: with V the input
transform of x's tiles and dM = A gy A^T per grad_y tile (the adjoint of the output
transform), dL/dU[pos] = V[pos]^T @ dM[pos] summed over tiles, and grad_w =
G^T dL/dU G. grad_bias is grad_y summed over (N, P, Q).

Shapes: x (N, C, H, W), weight (K, C, 3, 3), bias (K,) -> y (N, K, P, Q),
P = H + 2 * pad_h - 2, Q = W + 2 * pad_w - 2.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import torch

from hubkit import _ext

TILES = {"winograd2": 2, "winograd4": 4}  # algorithm name -> output tile size m


def why_not(weight: torch.Tensor, stride, dilation, groups: int) -> str | None:
    """None if Winograd F(m, 3) can compute this convolution, else what it lacks."""
    problems = []
    if tuple(weight.shape[2:]) != (3, 3):
        problems.append(f"a 3x3 kernel (weight is {weight.shape[2]}x{weight.shape[3]})")
    if list(stride) != [1, 1]:
        problems.append(f"stride 1 (got {list(stride)})")
    if list(dilation) != [1, 1]:
        problems.append(f"dilation 1 (got {list(dilation)})")
    if groups != 1:
        problems.append(f"groups=1 (got {groups})")
    return "needs " + ", ".join(problems) if problems else None


def pays_off(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """Whether F(4,3) beats im2col on this shape (given that it applies).

    Measured forward, float32, N=4, C=K, padding 1, 2 threads on 2 shared AVX-512
    cores (load ~9), im2col time / F(4,3) time: C=8: 0.72-0.96 (loses), C=16:
    1.0 at 4x4, 1.3-1.5 from 6x6 on, C=32: 1.3-2.3, C=64: 1.6-2.4. Below ~16
    channels the transforms cost more than the 4x smaller GEMM saves.
    """
    k, c = weight.shape[:2]
    return min(c, k) >= 16 and x.shape[2] * x.shape[3] >= 16


class FilterCache:
    """Packed filter transforms U, one per (weight, m, flip), valid for one weight's values.

    Looked up by the weight's data_ptr; an entry matches when the weight's
    `_version`, shape and dtype are those it was made from, and (checked last) its
    values equal the copy kept beside U. An in-place update (optimizer step,
    `copy_` under no_grad) bumps `_version`; writes through `.data` (hand-written
    SGD, gradcheck's perturbations) and a new tensor at a freed address do not,
    which the value check catches. The check reads the weight once, a small
    fraction of the transform it saves (U is 4x the weight, padded).
    """

    def __init__(self, capacity: int = 32) -> None:
        self.capacity = capacity
        self.misses = 0  # transforms computed, for tests and curious readers
        self._entries: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, weight: torch.Tensor, m: int, flip: bool) -> torch.Tensor:
        """U for `weight` (K, C, 3, 3): from the cache, or transformed now."""
        slot = (weight.data_ptr(), m, flip)
        version = (weight._version, tuple(weight.shape), weight.dtype)
        with self._lock:
            hit = self._entries.get(slot)
        if hit is not None and hit[0] == version and torch.equal(hit[1], weight):
            with self._lock:
                self._entries[slot] = hit
                self._entries.move_to_end(slot)
            return hit[2]
        u = transform_filters(weight, m, flip)
        with self._lock:
            self.misses += 1
            self._entries[slot] = (version, weight.clone(), u)
            self._entries.move_to_end(slot)
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return u

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# subtle: process-wide on purpose, like torch's own kernel caches: a layer's filters
# are transformed once per weight version, not once per call. Bounded (LRU) and
# never changes a result, only whether a transform is recomputed.
FILTERS = FilterCache()


def transform_filters(weight: torch.Tensor, m: int, flip: bool = False) -> torch.Tensor:
    """weight (K, C, 3, 3) contiguous -> packed U, flat; flip: for grad_x (C outputs)."""
    k, c = weight.shape[:2]
    cpp, code = _ext.cpp_module(), _ext.dtype_code(weight.dtype)
    out_ch, in_ch = (c, k) if flip else (k, c)
    u = weight.new_empty(cpp.winograd_filter_size(out_ch, in_ch, m, code))
    cpp.winograd_filter_transform(weight.data_ptr(), u.data_ptr(), k, c, flip, m, code)
    return u


def _run(x: torch.Tensor, u: torch.Tensor, bias, k: int, padding, m: int,
         isa: str) -> torch.Tensor:
    n, c, h, w = x.shape
    p, q = h + 2 * padding[0] - 2, w + 2 * padding[1] - 2
    y = x.new_empty(n, k, p, q)
    _ext.cpp_module().winograd_forward(
        x.data_ptr(), u.data_ptr(), 0 if bias is None else bias.data_ptr(), y.data_ptr(),
        [n, c, h, w, k, p, q, *padding], m, _ext.dtype_code(x.dtype), isa)
    return y


def conv2d_winograd(x, weight, bias, padding, m: int, isa: str = "auto") -> torch.Tensor:
    """y (N, K, P, Q) = conv2d(x, weight, bias, stride=1, padding) by F(m x m, 3 x 3).

    Args: x (N, C, H, W), weight (K, C, 3, 3), bias (K,) or None, all contiguous
    float32/float64 on the CPU; padding [h, w]; m 2 or 4; isa "auto" (the widest SIMD
    path this CPU runs) or "avx512", "avx2", "base" to run one (tests check each).
    """
    return _run(x, FILTERS.get(weight, m, False), bias, weight.shape[0], padding, m, isa)


def grad_input_winograd(grad_y, weight, padding, m: int, isa: str = "auto") -> torch.Tensor:
    """grad_x (N, C, H, W) of `conv2d_winograd`: grad_y (N, K, P, Q) correlated with the
    rotated, transposed filters at padding 2 - pad (negative: rows cut off)."""
    pad = [2 - padding[0], 2 - padding[1]]
    return _run(grad_y, FILTERS.get(weight, m, True), None, weight.shape[1], pad, m, isa)


def grad_weight_winograd(x, grad_y, padding, m: int, isa: str = "auto") -> torch.Tensor:
    """grad_w (K, C, 3, 3) of `conv2d_winograd` from x (N, C, H, W), grad_y (N, K, P, Q)."""
    n, c, h, w = x.shape
    k, p, q = grad_y.shape[1:]
    gw = x.new_empty(k, c, 3, 3)
    _ext.cpp_module().winograd_grad_weight(x.data_ptr(), grad_y.data_ptr(), gw.data_ptr(),
                                           [n, c, h, w, k, p, q, *padding], m,
                                           _ext.dtype_code(x.dtype), isa)
    return gw
