"""A small tensor library with reverse-mode autograd over NumPy (exercise tensor_autograd).

Like the scalar Value, each Tensor remembers its parents and a closure
`_backward(g)` that receives d(output)/d(this tensor) and pushes it on to the
parents. New at the tensor scale: broadcasting (a (D,) bias added to (N, D)
rows gets the row-sum of the gradient) and matrix products.

Shapes: x (N, K), w (K, M), b (M,) or (1, M); g has the shape of the node's data.
"""

import numpy as np


def unbroadcast(grad, shape):
    """Sum grad down to `shape`, undoing NumPy broadcasting."""
    # BEGIN SOLUTION
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad
    # END SOLUTION


class Tensor:
    """An ndarray that records how it was computed."""

    def __init__(self, data, parents=()):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad = None
        self.parents = parents
        self._backward = lambda g: None

    def _accumulate(self, g):
        """Add g (unbroadcast to this tensor's shape) into self.grad."""
        g = unbroadcast(g, self.data.shape)
        # BEGIN SOLUTION
        self.grad = g.copy() if self.grad is None else self.grad + g
        # END SOLUTION

    def _node(self, data, parents, backward):
        out = Tensor(data, parents)
        out._backward = backward
        return out

    def __add__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward(g):
            # BEGIN SOLUTION
            self._accumulate(g)
            other._accumulate(g)
            # END SOLUTION
        return self._node(self.data + other.data, (self, other), backward)

    def __mul__(self, other):
        other = other if isinstance(other, Tensor) else Tensor(other)

        def backward(g):
            # BEGIN SOLUTION
            self._accumulate(g * other.data)
            other._accumulate(g * self.data)
            # END SOLUTION
        return self._node(self.data * other.data, (self, other), backward)

    def __matmul__(self, other):
        def backward(g):
            # BEGIN SOLUTION
            self._accumulate(g @ other.data.T)
            other._accumulate(self.data.T @ g)
            # END SOLUTION
        return self._node(self.data @ other.data, (self, other), backward)

    def relu(self):
        def backward(g):
            # BEGIN SOLUTION
            self._accumulate(g * (self.data > 0))
            # END SOLUTION
        return self._node(np.maximum(self.data, 0.0), (self,), backward)

    def sum(self):
        def backward(g):
            # BEGIN SOLUTION
            self._accumulate(np.broadcast_to(g, self.data.shape))
            # END SOLUTION
        return self._node(self.data.sum(), (self,), backward)

    def backward(self):
        """Fill .grad of every tensor this scalar depends on."""
        order, seen = [], set()

        def visit(node):
            if id(node) not in seen:
                seen.add(id(node))
                for p in node.parents:
                    visit(p)
                order.append(node)
        visit(self)
        self.grad = np.ones_like(self.data)
        for node in reversed(order):
            node._backward(node.grad)
