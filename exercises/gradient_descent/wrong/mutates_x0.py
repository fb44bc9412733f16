"""Known wrong: updates x0 in place (x -= ... on the caller's array)."""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    x = x0
    path = [x.copy()]
    for _ in range(steps):
        x -= lr * grad(x)
        path.append(x.copy())
    return np.stack(path)


def best_step_size(f, grad, x0, lrs, steps):
    return lrs[0]
