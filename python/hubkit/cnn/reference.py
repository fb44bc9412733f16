"""2D convolution and pooling in NumPy, written out: the spec every optimized conv matches.

A convolution layer slides K filters of shape (C/groups, R, S) over an image
and takes a dot product at every position (LeCun et al., 1998,
http://yann.lecun.com/exdb/publis/pdf/lecun-98.pdf). Output size per axis:

    P = (H + 2*pad - dilation*(R - 1) - 1) // stride + 1

Two equivalent ways to compute it live side by side here:

* `conv2d_naive`: seven nested loops, the definition itself.
* `conv2d_im2col`: copy every receptive field into a column (im2col), then one
  matrix multiply per group (Chellapilla et al., 2006,
  https://hal.inria.fr/inria-00112631). This is what the C++ backend does.

The backward pass is the same matrix multiply transposed: grad of the weight
is grad_y @ cols^T, grad of the columns is W^T @ grad_y, and col2im scatters
the column gradients back onto the image (adding where windows overlap).

Shape legend: N batch, C input channels, K output channels (filters), H x W
input size, R x S kernel size, P x Q output size, G groups.
"""

from __future__ import annotations

import numpy as np


def pair(v: int | tuple[int, int]) -> tuple[int, int]:
    """3 -> (3, 3); (1, 2) -> (1, 2)."""
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def out_size(h: int, r: int, stride: int, pad: int, dilation: int) -> int:
    """Output length along one axis for input length h and kernel length r."""
    return (h + 2 * pad - dilation * (r - 1) - 1) // stride + 1


def conv2d_naive(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1,
                 padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Convolution by its definition: a loop over every output element.

    Args:
        x: (N, C, H, W) input.
        w: (K, C // groups, R, S) filters.
        b: (K,) bias or None.
        stride, padding, dilation: int or (h, w) pair.
        groups: channels are split into this many independent groups.

    Returns:
        (N, K, P, Q) output.

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_naive(x, np.ones((1, 1, 2, 2)))[0, 0]
        array([[ 8., 12.],
               [20., 24.]])
    """
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    p, q = out_size(h, r, sh, ph, dh), out_size(wd, s, sw, pw, dw)
    kg = k // groups
    y = np.zeros((n, k, p, q), dtype=np.result_type(x, w))
    for ni in range(n):
        for ki in range(k):
            g = ki // kg  # filter ki sees only the input channels of its group
            for pi in range(p):
                for qi in range(q):
                    acc = 0.0
                    for ci in range(cg):
                        for ri in range(r):
                            for si in range(s):
                                hi = pi * sh - ph + ri * dh
                                wi = qi * sw - pw + si * dw
                                if 0 <= hi < h and 0 <= wi < wd:  # outside = zero padding
                                    acc += x[ni, g * cg + ci, hi, wi] * w[ki, ci, ri, si]
                    y[ni, ki, pi, qi] = acc + (b[ki] if b is not None else 0.0)
    return y


def im2col(x: np.ndarray, kernel, stride=1, padding=0, dilation=1) -> np.ndarray:
    """Copy every receptive field of x into a column.

    Args:
        x: (N, C, H, W) input.
        kernel: (R, S) kernel size (or an int).

    Returns:
        (N, C*R*S, P*Q) columns; row index is (c, r, s) in that order, matching
        w.reshape(K, C*R*S).
    """
    (r, s), (sh, sw), (ph, pw), (dh, dw) = pair(kernel), pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x.shape
    p, q = out_size(h, r, sh, ph, dh), out_size(wd, s, sw, pw, dw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))  # (N, C, H+2ph, W+2pw)
    cols = np.empty((n, c, r, s, p, q), dtype=x.dtype)
    for ri in range(r):
        for si in range(s):
            h0, w0 = ri * dh, si * dw
            # every output position (pi, qi) reads xp[h0 + pi*sh, w0 + qi*sw]
            cols[:, :, ri, si] = xp[:, :, h0:h0 + sh * (p - 1) + 1:sh, w0:w0 + sw * (q - 1) + 1:sw]
    return cols.reshape(n, c * r * s, p * q)


def col2im(cols: np.ndarray, x_shape, kernel, stride=1, padding=0, dilation=1) -> np.ndarray:
    """The adjoint of im2col: add every column entry back where it was read from.

    Args:
        cols: (N, C*R*S, P*Q) column gradients.
        x_shape: (N, C, H, W) of the image.

    Returns:
        (N, C, H, W); overlapping windows add up.
    """
    (r, s), (sh, sw), (ph, pw), (dh, dw) = pair(kernel), pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x_shape
    p, q = out_size(h, r, sh, ph, dh), out_size(wd, s, sw, pw, dw)
    cols = cols.reshape(n, c, r, s, p, q)
    xp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype=cols.dtype)
    for ri in range(r):
        for si in range(s):
            h0, w0 = ri * dh, si * dw
            # subtle: +=, not =, because windows overlap when stride < kernel extent
            xp[:, :, h0:h0 + sh * (p - 1) + 1:sh, w0:w0 + sw * (q - 1) + 1:sw] += cols[:, :, ri, si]
    return xp[:, :, ph:ph + h, pw:pw + wd]


def conv2d_im2col(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None, stride=1,
                  padding=0, dilation=1, groups: int = 1) -> np.ndarray:
    """Convolution as im2col + one matrix multiply per group; same result as conv2d_naive.

    Args and Returns: as `conv2d_naive`.
    """
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    kg = k // groups
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    p, q = out_size(h, r, sh, ph, dh), out_size(wd, s, sw, pw, dw)
    cols = im2col(x, (r, s), stride, padding, dilation)  # (N, C*R*S, P*Q)
    cols = cols.reshape(n, groups, cg * r * s, p * q)  # (N, G, Cg*R*S, P*Q)
    wm = w.reshape(groups, kg, cg * r * s)  # (G, Kg, Cg*R*S)
    y = np.einsum("gkj,ngjl->ngkl", wm, cols)  # (N, G, Kg, P*Q)
    y = y.reshape(n, k, p, q)
    return y + b.reshape(1, k, 1, 1) if b is not None else y


def conv2d_backward(grad_y: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0,
                    dilation=1, groups: int = 1):
    """Gradients of conv2d with respect to x, w and the bias.

    Args:
        grad_y: (N, K, P, Q) gradient of the loss with respect to the output.
        x, w, stride, padding, dilation, groups: as in the forward.

    Returns:
        (grad_x (N, C, H, W), grad_w (K, C/G, R, S), grad_b (K,)).
    """
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    kg = k // groups
    gy = grad_y.reshape(n, groups, kg, -1)  # (N, G, Kg, P*Q)
    cols = im2col(x, (r, s), stride, padding, dilation).reshape(n, groups, cg * r * s, -1)
    wm = w.reshape(groups, kg, cg * r * s)
    grad_w = np.einsum("ngkl,ngjl->gkj", gy, cols).reshape(w.shape)  # sum over N and P*Q
    grad_cols = np.einsum("gkj,ngkl->ngjl", wm, gy).reshape(n, c * r * s, -1)
    grad_x = col2im(grad_cols, x.shape, (r, s), stride, padding, dilation)
    return grad_x, grad_w, grad_y.sum(axis=(0, 2, 3))


def conv2d_backward_naive(grad_y: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1,
                          padding=0, dilation=1, groups: int = 1):
    """conv2d_backward by loops: each forward multiply-add sends grad to both operands."""
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(padding), pair(dilation)
    n, c, h, wd = x.shape
    k, cg, r, s = w.shape
    _, _, p, q = grad_y.shape
    kg = k // groups
    grad_x, grad_w = np.zeros_like(x), np.zeros_like(w)
    for ni, ki, pi, qi in np.ndindex(n, k, p, q):
        g, gval = ki // kg, grad_y[ni, ki, pi, qi]
        for ci, ri, si in np.ndindex(cg, r, s):
            hi, wi = pi * sh - ph + ri * dh, qi * sw - pw + si * dw
            if 0 <= hi < h and 0 <= wi < wd:
                grad_x[ni, g * cg + ci, hi, wi] += gval * w[ki, ci, ri, si]
                grad_w[ki, ci, ri, si] += gval * x[ni, g * cg + ci, hi, wi]
    return grad_x, grad_w, grad_y.sum(axis=(0, 2, 3))


def _windows(x: np.ndarray, kernel, stride, padding, fill: float) -> np.ndarray:
    """(N, C, H, W) -> (N, C, R*S, P, Q): every pooling window, padded with `fill`."""
    n, c, h, wd = x.shape
    (r, s), (sh, sw), (ph, pw) = pair(kernel), pair(stride), pair(padding)
    p, q = out_size(h, r, sh, ph, 1), out_size(wd, s, sw, pw, 1)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=fill)
    cols = im2col(xp, (r, s), (sh, sw), 0, 1)  # (N, C*R*S, P*Q)
    return cols.reshape(n, c, r * s, p, q)


def max_pool2d(x: np.ndarray, kernel, stride=None, padding=0) -> np.ndarray:
    """Largest value in each window; padding never wins (it is -inf).

    Args:
        x: (N, C, H, W). kernel, stride (defaults to kernel), padding: int or pair.

    Returns:
        (N, C, P, Q).
    """
    stride = kernel if stride is None else stride
    return _windows(x, kernel, stride, padding, -np.inf).max(axis=2)


def max_pool2d_backward(grad_y: np.ndarray, x: np.ndarray, kernel, stride=None, padding=0):
    """Route each output gradient to the (first) position that held the max."""
    stride = kernel if stride is None else stride
    win = _windows(x, kernel, stride, padding, -np.inf)  # (N, C, R*S, P, Q)
    arg = win.argmax(axis=2)[:, :, None]
    onehot = (np.arange(win.shape[2])[None, None, :, None, None] == arg).astype(x.dtype)
    n, c, h, wd = x.shape
    (ph, pw) = pair(padding)
    cols = (onehot * grad_y[:, :, None]).reshape(n, c * win.shape[2], -1)
    full = col2im(cols, (n, c, h + 2 * ph, wd + 2 * pw), kernel, stride, 0, 1)
    return full[:, :, ph:ph + h, pw:pw + wd]


def avg_pool2d(x: np.ndarray, kernel, stride=None, padding=0) -> np.ndarray:
    """Mean of each window, padding counted as zeros (torch's count_include_pad=True)."""
    stride = kernel if stride is None else stride
    return _windows(x, kernel, stride, padding, 0.0).mean(axis=2)


def avg_pool2d_backward(grad_y: np.ndarray, x: np.ndarray, kernel, stride=None, padding=0):
    """Spread each output gradient evenly over its window."""
    stride = kernel if stride is None else stride
    n, c, h, wd = x.shape
    r, s = pair(kernel)
    cols = np.repeat(grad_y[:, :, None] / (r * s), r * s, axis=2).reshape(n, c * r * s, -1)
    return col2im(cols, x.shape, kernel, stride, padding, 1)
