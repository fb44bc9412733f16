"""Known wrong: a correct descent, but best_step_size ignores blown-up runs badly.

NaN compares False with everything, so `value < best` never replaces a NaN
best: starting from the last (largest) step size keeps the diverged one.
"""

import numpy as np


def gradient_descent(grad, x0, lr, steps):
    x = np.array(x0, dtype=np.float64)
    path = [x.copy()]
    for _ in range(steps):
        x = x - lr * grad(x)
        path.append(x.copy())
    return np.stack(path)


def best_step_size(f, grad, x0, lrs, steps):
    best, best_value = lrs[-1], f(gradient_descent(grad, x0, lrs[-1], steps)[-1])
    for lr in lrs:
        value = f(gradient_descent(grad, x0, lr, steps)[-1])
        if value < best_value:
            best, best_value = lr, value
    return best
