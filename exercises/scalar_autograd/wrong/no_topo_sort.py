"""Known wrong: backward runs nodes depth-first as reached, not in topological order.

Each Value holds a number, the gradient d(output)/d(this value) once backward()
has run, the Values it was computed from, and a `_backward` closure that pushes
its own gradient one step back to those parents (the chain rule, locally).
"""

from __future__ import annotations

import math


class Value:
    """A scalar that remembers how it was computed, so gradients can flow back."""

    def __init__(self, data: float, parents: tuple[Value, ...] = ()):
        self.data = float(data)
        self.grad = 0.0
        self._parents = parents
        self._backward = lambda: None  # a leaf has nowhere to send its gradient

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    def __add__(self, other: Value | float) -> Value:
        """self + other; both parents get the output's gradient unchanged."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other: Value | float) -> Value:
        """self * other; each parent's gradient is the other factor times the output's."""
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k: float) -> Value:
        """self ** k for a constant number k; d/dx x^k = k x^(k-1)."""
        out = Value(self.data ** k, (self,))

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """tanh(self); d/dx tanh(x) = 1 - tanh(x)^2."""
        t = math.tanh(self.data)
        out = Value(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(self, 0); the derivative is 1 where x > 0 and 0 elsewhere (also at 0)."""
        out = Value(max(self.data, 0.0), (self,))

        def _backward():
            self.grad += (1.0 if self.data > 0 else 0.0) * out.grad
        out._backward = _backward
        return out

    def exp(self) -> Value:
        """e ** self; its own derivative."""
        out = Value(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural log of a positive self; d/dx log x = 1 / x."""
        out = Value(math.log(self.data), (self,))

        def _backward():
            self.grad += out.grad / self.data
        out._backward = _backward
        return out

    def backward(self) -> None:
        """Set self.grad = 1 and fill in .grad of every Value this one depends on.

        Run each node's _backward only after every node that uses it has run
        its own: order the graph topologically, then walk it from the output.
        """
        self.grad = 1.0

        def run(node):  # depth-first, each node as soon as it is reached
            node._backward()
            for parent in node._parents:
                run(parent)
        run(self)

    # The rest are built from the operations above; nothing to write here.
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-other)

    def __truediv__(self, other: Value | float) -> Value:
        other = other if isinstance(other, Value) else Value(other)
        return self * other ** -1

    def __radd__(self, other: float) -> Value:
        return self + other

    def __rsub__(self, other: float) -> Value:
        return Value(other) - self

    def __rmul__(self, other: float) -> Value:
        return self * other

    def __rtruediv__(self, other: float) -> Value:
        return Value(other) / self

