"""Known wrong: evaluates the gradient once, at x0, and reuses it for every step."""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    g = grad(x)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * g
        path.append(x.copy())
    return np.stack(path)


def best_step_size(f, grad, x0, lrs, steps):
    return lrs[0]
