"""Known wrong: returns the right shape, all zeros."""

import numpy as np


def matmul(a, b):
    return np.zeros((a.shape[0], b.shape[1]), dtype=a.dtype)
