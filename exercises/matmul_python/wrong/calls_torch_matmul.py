"""Known wrong: converts to torch and calls torch.matmul."""

import torch


def matmul(a, b):
    return torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()
