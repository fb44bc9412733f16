"""A scalar reverse-mode autograd engine and a tiny MLP built on it.

Every arithmetic result is a Value that remembers its inputs and how to push a
gradient back to them (the local chain-rule step). backward() orders the graph
so each node runs after every node that uses it (a topological sort), seeds
d out / d out = 1 and runs the local steps in that order. Gradients are
*accumulated* (+=): a value used twice receives both contributions.

This is the computational-graph idea of backpropagation (Rumelhart, Hinton &
Williams, 1986) at the scale of single numbers, the same one torch.autograd
runs on tensors.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable

Number = int | float


class Value:
    """A scalar that records the operations producing it, for reverse-mode gradients.

    Args:
        data: the number.
        parents: the Values it was computed from (empty for a leaf).
        op: a short name of the operation, for printing graphs.

    Example:
        >>> a, b = Value(2.0), Value(-3.0)
        >>> y = (a * b + a ** 2).tanh()
        >>> y.backward()
        >>> round(a.grad, 6), round(b.grad, 6)
        (0.070651, 0.141302)
    """

    def __init__(self, data: Number, parents: tuple[Value, ...] = (), op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self.parents = parents
        self.op = op
        self._backward: Callable[[], None] = lambda: None

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def lift(x: Value | Number) -> Value:
        """Wrap a plain number as a constant leaf; pass a Value through."""
        return x if isinstance(x, Value) else Value(x)

    # --- binary operations: out = f(self, other); local derivatives times out.grad
    def __add__(self, other: Value | Number) -> Value:
        other = Value.lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def backward() -> None:
            self.grad += out.grad
            other.grad += out.grad
        out._backward = backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = Value.lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = backward
        return out

    def __pow__(self, k: Number) -> Value:
        if not isinstance(k, int | float):
            raise ValueError(f"k: expected an int or float exponent, got {type(k).__name__}")
        out = Value(self.data ** k, (self,), f"**{k}")

        def backward() -> None:
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = backward
        return out

    # --- the rest are built from the three above
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-Value.lift(other))

    def __truediv__(self, other: Value | Number) -> Value:
        return self * Value.lift(other) ** -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return Value.lift(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return Value.lift(other) / self

    # --- unary functions
    def _unary(self, value: float, local_grad: float, op: str) -> Value:
        """A one-input node whose derivative at this point is local_grad."""
        out = Value(value, (self,), op)

        def backward() -> None:
            self.grad += local_grad * out.grad
        out._backward = backward
        return out

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)^2."""
        t = math.tanh(self.data)
        return self._unary(t, 1.0 - t * t, "tanh")

    def relu(self) -> Value:
        """max(x, 0); derivative 1 for x > 0, else 0 (torch's choice at 0)."""
        return self._unary(max(self.data, 0.0), float(self.data > 0), "relu")

    def exp(self) -> Value:
        """e^x; derivative e^x."""
        e = math.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Value:
        """Natural log (x > 0); derivative 1 / x."""
        if self.data <= 0:
            raise ValueError(f"log: expected a positive input, got {self.data!r}")
        return self._unary(math.log(self.data), 1.0 / self.data, "log")

    def topological_order(self) -> list[Value]:
        """Every node this Value depends on, each after all of its parents."""
        return topological_order(self)

    def backward(self) -> None:
        """Fill .grad of every node in the graph with d self / d node (accumulating)."""
        order = self.topological_order()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()


class Neuron:
    """tanh(w . x + b) (or linear, for an output layer), weights uniform in [-1, 1)."""

    def __init__(self, n_in: int, rng: random.Random, nonlinear: bool = True):
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(n_in)]
        self.b = Value(0.0)
        self.nonlinear = nonlinear

    def __call__(self, x: Iterable[Value | Number]) -> Value:
        act = sum((wi * xi for wi, xi in zip(self.w, x, strict=True)), self.b)
        return act.tanh() if self.nonlinear else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class MLP:
    """A multi-layer perceptron of Neurons: tanh hidden layers, a linear last layer.

    Args:
        n_in: number of inputs.
        sizes: width of each layer, the last being the number of outputs.
        seed: seeds the weight initialisation.

    Example:
        >>> net = MLP(3, [4, 4, 1], seed=0)
        >>> out = net([1.0, -2.0, 0.5])
        >>> len(out), len(net.parameters())
        (1, 41)
    """

    def __init__(self, n_in: int, sizes: list[int], seed: int = 0):
        rng = random.Random(seed)
        dims = [n_in, *sizes]
        self.layers = [[Neuron(dims[i], rng, nonlinear=i < len(sizes) - 1)
                        for _ in range(dims[i + 1])] for i in range(len(sizes))]

    def __call__(self, x: Iterable[Value | Number]) -> list[Value]:
        h = list(x)
        for layer in self.layers:
            h = [neuron(h) for neuron in layer]
        return h

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


def topological_order(root) -> list:
    """Every node `root` depends on (through `.parents`), each after all of its parents.

    Shared by `Value` and the tensor library's `Tensor` (hubkit.basics.tensorlib):
    the graph walk does not care what a node holds.
    """
    order: list = []
    seen: set[int] = set()
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:  # subtle: iterative, so deep graphs cannot hit the recursion limit
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif id(node) not in seen:
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if id(p) not in seen)
    return order
