"""The perceptron, a multi-layer forward pass and two losses (exercise perceptron).

Shapes: X (N, D), y (N,) in {-1, +1} for the perceptron; weights[i] (D_i, D_(i+1)),
biases[i] (D_(i+1),); logits (N, K), labels (N,) integers in [0, K).
"""

import numpy as np


def perceptron_fit(X, y, epochs):
    """(w (D,), b) after the perceptron rule: visit points in order, update on mistakes."""
    # BEGIN SOLUTION
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y, strict=True):
            if yi * (xi @ w + b) <= 0:
                w = w + yi * xi
                b = b + yi
                mistakes += 1
        if mistakes == 0:
            break
    return w, float(b)
    # END SOLUTION


def relu(z):
    """max(z, 0) elementwise."""
    # BEGIN SOLUTION
    return np.maximum(z, 0.0)
    # END SOLUTION


def mlp_forward(x, weights, biases):
    """Logits of an MLP: relu(h @ W + b) for each layer but the last, which stays linear."""
    # BEGIN SOLUTION
    h = x
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = h @ w + b
        if i < len(weights) - 1:
            h = relu(h)
    return h
    # END SOLUTION


def mse(pred, target):
    """Mean squared error (regression)."""
    # BEGIN SOLUTION
    return float(np.mean((pred - target) ** 2))
    # END SOLUTION


def cross_entropy(logits, labels):
    """Mean over rows of -log softmax(logits)[label] (classification); finite for big logits."""
    # BEGIN SOLUTION
    m = logits.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(logits - m).sum(axis=1))
    return float(np.mean(lse - logits[np.arange(len(labels)), labels]))
    # END SOLUTION
