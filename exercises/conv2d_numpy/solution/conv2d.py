"""2D convolution in NumPy, from scratch: im2col + one matrix multiply per group.

Shapes: x (N, C, H, W), weight (K, C // groups, R, S), bias (K,) -> (N, K, P, Q),
P = (H + 2 * padding - dilation * (R - 1) - 1) // stride + 1 (same for Q with W, S).
"""

from __future__ import annotations

import numpy as np


def conv2d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int, padding: int,
           dilation: int, groups: int) -> np.ndarray:
    """Cross-correlation like torch.nn.functional.conv2d (int stride/padding/dilation)."""
    # BEGIN SOLUTION
    # starter> # Step 1: output size P, Q from the formula above.
    # starter> # Step 2: zero-pad x by `padding` on every side of H and W (np.pad).
    # starter> # Step 3: im2col: for each kernel tap (r, s), slice the padded image at
    # starter> #         rows r*dilation + p*stride (columns alike) -> (N, C, R, S, P, Q).
    # starter> # Step 4: per group g, multiply weight[g's filters] (Kg, Cg*R*S) by the
    # starter> #         columns of g's channels (Cg*R*S, P*Q); add the bias.
    # starter> raise NotImplementedError("not implemented yet")
    n, c, h, w = x.shape
    k, cg, r, s = weight.shape
    p = (h + 2 * padding - dilation * (r - 1) - 1) // stride + 1
    q = (w + 2 * padding - dilation * (s - 1) - 1) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, r, s, p, q), dtype=x.dtype)
    for ri in range(r):
        for si in range(s):
            h0, w0 = ri * dilation, si * dilation
            cols[:, :, ri, si] = xp[:, :, h0:h0 + stride * (p - 1) + 1:stride,
                                    w0:w0 + stride * (q - 1) + 1:stride]
    cols = cols.reshape(n, groups, cg * r * s, p * q)  # (N, G, Cg*R*S, P*Q)
    wm = weight.reshape(groups, k // groups, cg * r * s)  # (G, Kg, Cg*R*S)
    y = np.einsum("gkj,ngjl->ngkl", wm, cols).reshape(n, k, p, q)
    return y + bias.reshape(1, k, 1, 1)
    # END SOLUTION
