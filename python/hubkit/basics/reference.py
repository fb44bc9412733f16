"""Foundations written out by hand: the spec for the Parts 1-3 exercises.

One import point for the readable references of the basics slice; each idea
lives in its own small module:

- matmul:          matrix multiplication as three loops and as NumPy tiles
- calculus:        gradient descent, a step-size study, the numerical gradient check
- autograd:        a scalar reverse-mode autograd engine (Value) and an MLP on it
- optim:           SGD, Momentum (and Nesterov), Adam, AdamW, matching torch.optim
- regularization:  dropout and batch norm, train and eval, forward and backward
- schedules:       step, cosine-annealing and warmup learning-rate schedules

Every one is tested against torch (or NumPy) as the oracle in tests/basics/.
The rest of Parts 1-3 lives beside them, imported by name: linalg and
recommender (1.1), probability and naive_bayes (1.3), pytools (2.1),
numpy_drills, dataprep and dashboard (2.2), perceptron (3.1), tensorlib and
mnist (3.2), torch_mlp and profiling (3.3), studies (the figures of 1.2 and 3.4).

Example:
    >>> import numpy as np
    >>> from hubkit.basics.reference import Value, matmul_blocked
    >>> matmul_blocked(np.eye(2), np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    >>> x = Value(3.0); y = x * x + x; y.backward(); x.grad
    7.0
"""

from hubkit.basics.autograd import MLP, Neuron, Value
from hubkit.basics.calculus import (
    DescentResult,
    StepSizeStudy,
    gradient_check,
    gradient_descent,
    numerical_gradient,
    relative_error,
    step_size_study,
)
from hubkit.basics.matmul import matmul_blocked, matmul_loops
from hubkit.basics.optim import SGD, Adam, AdamW, Momentum, Optimizer
from hubkit.basics.regularization import (
    BatchNorm,
    BatchNormCache,
    batch_norm_backward,
    batch_norm_eval,
    batch_norm_train,
    dropout,
)
from hubkit.basics.schedules import cosine_annealing, linear_warmup, step_lr, warmup_cosine

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "BatchNorm",
    "BatchNormCache",
    "DescentResult",
    "Momentum",
    "Neuron",
    "Optimizer",
    "StepSizeStudy",
    "Value",
    "batch_norm_backward",
    "batch_norm_eval",
    "batch_norm_train",
    "cosine_annealing",
    "dropout",
    "gradient_check",
    "gradient_descent",
    "linear_warmup",
    "matmul_blocked",
    "matmul_loops",
    "numerical_gradient",
    "relative_error",
    "step_lr",
    "step_size_study",
    "warmup_cosine",
]
