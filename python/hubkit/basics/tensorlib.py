"""A small tensor library in NumPy: the scalar autograd (hubkit.basics.autograd) grown up.

`Tensor` wraps an ndarray and records, like `Value`, its parents and a closure
that pushes the gradient back. Two things are new at the tensor scale:

* **Broadcasting.** `a + b` with a (N, D) and b (D,) uses b once per row, so b's
  gradient is the upstream gradient *summed over the broadcast axes*
  (`unbroadcast`). Forgetting this is the classic bug of every first tensor library.
* **Matrix products.** For C = A @ B: dA = dC @ B^T and dB = A^T @ dC.

On top sit `Linear`, `MLP`, `SGD` and a fused softmax cross-entropy: enough to
train an MLP on MNIST-format digits with NumPy only (hubkit.basics.mnist).

Shapes: x (B, D_in), W (D_in, D_out), b (D_out,), logits (B, K), labels (B,).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from hubkit.basics.autograd import topological_order


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` down to `shape`, undoing NumPy broadcasting.

    Example:
        >>> unbroadcast(np.ones((4, 3)), (3,)).tolist()
        [4.0, 4.0, 4.0]
        >>> unbroadcast(np.ones((4, 3)), (4, 1)).tolist()
        [[3.0], [3.0], [3.0], [3.0]]
    """
    while grad.ndim > len(shape):  # leading axes that broadcasting added
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:  # axes stretched from 1
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class Tensor:
    """An ndarray that records how it was computed, for reverse-mode gradients.

    Example:
        >>> x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]))
        >>> b = Tensor(np.array([10.0, 20.0]))
        >>> y = ((x + b) * x).sum()
        >>> y.backward()
        >>> b.grad.tolist(), x.grad.tolist()  # b broadcast over rows: its grad sums them
        ([4.0, 6.0], [[12.0, 24.0], [16.0, 28.0]])
    """

    def __init__(self, data, parents: tuple[Tensor, ...] = (), op: str = ""):
        self.data = np.asarray(data, dtype=np.float64)
        self.grad: np.ndarray | None = None
        self.parents, self.op = parents, op
        self._backward: Callable[[np.ndarray], None] = lambda g: None

    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)

    def __repr__(self) -> str:
        return f"Tensor(shape={self.shape}, op={self.op!r})"

    @staticmethod
    def lift(x) -> Tensor:
        return x if isinstance(x, Tensor) else Tensor(x)

    def _accumulate(self, g: np.ndarray) -> None:
        g = unbroadcast(g, self.shape)
        self.grad = g.copy() if self.grad is None else self.grad + g

    def _node(self, data: np.ndarray, parents: tuple[Tensor, ...], op: str,
              backward: Callable[[np.ndarray], None]) -> Tensor:
        out = Tensor(data, parents, op)
        out._backward = backward
        return out

    # --- elementwise arithmetic (broadcasting)
    def __add__(self, other) -> Tensor:
        other = Tensor.lift(other)

        def backward(g):
            self._accumulate(g)
            other._accumulate(g)
        return self._node(self.data + other.data, (self, other), "+", backward)

    def __mul__(self, other) -> Tensor:
        other = Tensor.lift(other)

        def backward(g):
            self._accumulate(g * other.data)
            other._accumulate(g * self.data)
        return self._node(self.data * other.data, (self, other), "*", backward)

    def __pow__(self, k: float) -> Tensor:
        return self._node(self.data ** k, (self,), f"**{k}",
                          lambda g: self._accumulate(g * k * self.data ** (k - 1)))

    def __neg__(self) -> Tensor:
        return self * -1.0

    def __sub__(self, other) -> Tensor:
        return self + (-Tensor.lift(other))

    def __truediv__(self, other) -> Tensor:
        return self * Tensor.lift(other) ** -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    def __rsub__(self, other) -> Tensor:
        return Tensor.lift(other) - self

    def __rtruediv__(self, other) -> Tensor:
        return Tensor.lift(other) / self

    def __matmul__(self, other) -> Tensor:
        other = Tensor.lift(other)
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"other: expected two matrices, got {self.shape} @ {other.shape}")

        def backward(g):  # g: (N, M) for (N, K) @ (K, M)
            self._accumulate(g @ other.data.T)
            other._accumulate(self.data.T @ g)
        return self._node(self.data @ other.data, (self, other), "@", backward)

    # --- unary functions and reductions
    def _unary(self, value: np.ndarray, local: np.ndarray, op: str) -> Tensor:
        return self._node(value, (self,), op, lambda g: self._accumulate(g * local))

    def relu(self) -> Tensor:
        return self._unary(np.maximum(self.data, 0.0), (self.data > 0).astype(np.float64), "relu")

    def tanh(self) -> Tensor:
        t = np.tanh(self.data)
        return self._unary(t, 1 - t * t, "tanh")

    def exp(self) -> Tensor:
        e = np.exp(self.data)
        return self._unary(e, e, "exp")

    def log(self) -> Tensor:
        return self._unary(np.log(self.data), 1.0 / self.data, "log")

    def sum(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        def backward(g):
            if axis is not None and not keepdims:
                g = np.expand_dims(g, axis)
            self._accumulate(np.broadcast_to(g, self.shape))
        return self._node(self.data.sum(axis=axis, keepdims=keepdims), (self,), "sum", backward)

    def mean(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        n = self.data.size if axis is None else self.shape[axis]
        return self.sum(axis, keepdims) * (1.0 / n)

    def reshape(self, *shape: int) -> Tensor:
        return self._node(self.data.reshape(*shape), (self,), "reshape",
                          lambda g: self._accumulate(g.reshape(self.shape)))

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        return self._node(self.data.T, (self,), "T", lambda g: self._accumulate(g.T))

    # --- the graph
    def topological_order(self) -> list[Tensor]:
        """Every node this Tensor depends on, each after its parents (iterative DFS)."""
        return topological_order(self)

    def backward(self, grad: np.ndarray | None = None) -> None:
        """Fill .grad of every node with d self / d node (accumulating); scalar by default."""
        if grad is None and self.data.size != 1:
            raise ValueError(f"grad: needed for a non-scalar output of shape {self.shape}")
        order = self.topological_order()
        for node in order:
            if node is not self and node.parents:
                node.grad = None  # subtle: intermediates restart; leaves accumulate
        self.grad = np.ones_like(self.data) if grad is None else np.asarray(grad, np.float64)
        for node in reversed(order):
            if node.grad is not None:
                node._backward(node.grad)


def cross_entropy(logits: Tensor, labels: np.ndarray) -> Tensor:
    """Mean -log softmax(logits)[label] as one node; its gradient is (softmax - onehot) / B.

    Example:
        >>> z = Tensor(np.zeros((2, 4))); loss = cross_entropy(z, np.array([0, 3]))
        >>> round(float(loss.data), 4); loss.backward(); z.grad[0].round(3).tolist()
        1.3863
        [-0.375, 0.125, 0.125, 0.125]
    """
    z = logits.data - logits.data.max(axis=1, keepdims=True)  # (B, K), shift for exp
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(labels))
    probs = np.exp(logp)

    def backward(g):
        d = probs.copy()
        d[rows, labels] -= 1.0
        logits._accumulate(g * d / len(labels))
    return logits._node(np.array(-logp[rows, labels].mean()), (logits,), "xent", backward)


class Linear:
    """y = x W + b, He-initialized for a ReLU network."""

    def __init__(self, d_in: int, d_out: int, rng: np.random.Generator):
        self.W = Tensor(rng.standard_normal((d_in, d_out)) * np.sqrt(2.0 / d_in))
        self.b = Tensor(np.zeros(d_out))

    def __call__(self, x: Tensor) -> Tensor:
        return x @ self.W + self.b  # (B, D_in) @ (D_in, D_out) + (D_out,)

    def parameters(self) -> list[Tensor]:
        return [self.W, self.b]


class MLP:
    """Linear -> ReLU -> ... -> Linear (logits).

    Example:
        >>> net = MLP([64, 32, 10], seed=0)
        >>> net(Tensor(np.zeros((5, 64)))).shape, len(net.parameters())
        ((5, 10), 4)
    """

    def __init__(self, sizes: list[int], seed: int = 0):
        rng = np.random.default_rng(seed)
        self.layers = [Linear(a, b, rng) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]

    def __call__(self, x: Tensor) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = x.relu()
        return x

    def parameters(self) -> list[Tensor]:
        return [p for layer in self.layers for p in layer.parameters()]


class SGD:
    """p <- p - lr * grad for each parameter Tensor (momentum optional)."""

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0):
        self.params, self.lr, self.momentum = list(params), lr, momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for p, v in zip(self.params, self.velocity, strict=True):
            if p.grad is not None:
                v *= self.momentum
                v += p.grad
                p.data -= self.lr * v
