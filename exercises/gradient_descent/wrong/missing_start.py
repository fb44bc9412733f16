"""Known wrong: the path leaves out x0 (only the points after each step)."""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    path = []
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x.copy())
    return np.stack(path)


def best_step_size(f, grad, x0, lrs, steps):
    return lrs[0]
