"""RNN, LSTM and GRU: drop-ins for torch.nn.RNN/LSTM/GRU built on `hubkit.rnn.reference`.

Same constructor arguments and defaults, same parameter names (so `state_dict`s
move both ways), same input forms: (T, B, I) or (B, T, I) with batch_first,
unbatched (T, I), and PackedSequence; same outputs, `(output, h_n)` or for the
LSTM `(output, (h_n, c_n))`. Gradients come from autograd through the cells
(BPTT). An LSTM layer without projection on unpacked input runs on the fused
`hubkit.ops.lstm` op (`backend=` forces one of its backends).

Shape legend: T time, B batch, I input size, H hidden size, P proj size,
L num_layers, D directions (2 if bidirectional).
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pad_packed_sequence

from hubkit.rnn import reference
from hubkit.rnn.ops import SPEC as lstm_spec
from hubkit.rnn.ops import lstm as lstm_op

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _check_sizes(input_size, hidden_size, num_layers, dropout, proj_size) -> None:
    for name, v, low in (("input_size", input_size, 0), ("hidden_size", hidden_size, 1),
                         ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
            raise ValueError(f"{name}: expected an int >= {low}, got {v!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Number) \
            or not 0 <= dropout <= 1:
        raise ValueError(f"dropout: expected a number in [0, 1], got {dropout!r}")
    if proj_size >= hidden_size:
        raise ValueError(f"proj_size: must be smaller than hidden_size={hidden_size}, "
                         f"got {proj_size}")


class _Recurrent(nn.Module):
    """What RNN, LSTM and GRU share: parameters, input forms, layers and directions."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None,
                 dtype=None) -> None:
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers, dropout, proj_size)
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        self.mode, self.input_size, self.hidden_size = mode, input_size, hidden_size
        self.num_layers, self.bias, self.batch_first = num_layers, bias, batch_first
        self.dropout, self.bidirectional, self.proj_size = float(dropout), bidirectional, proj_size
        self._flat_weights_names = []
        self._register_weights(dict(device=device, dtype=dtype))
        self.reset_parameters()

    # -- parameters ------------------------------------------------------------------

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _register_weights(self, factory: dict) -> None:
        gate, out = GATES[self.mode] * self.hidden_size, self.proj_size or self.hidden_size
        for layer in range(self.num_layers):
            for d in range(self.num_directions):
                suffix = f"_l{layer}" + ("_reverse" if d else "")
                shapes = {"weight_ih": (gate, self.input_size if layer == 0
                                        else out * self.num_directions),
                          "weight_hh": (gate, out)}
                if self.bias:
                    shapes.update(bias_ih=(gate,), bias_hh=(gate,))
                if self.proj_size:
                    shapes["weight_hr"] = (self.proj_size, self.hidden_size)
                for name, shape in shapes.items():
                    self.register_parameter(name + suffix,
                                            nn.Parameter(torch.empty(shape, **factory)))
                    self._flat_weights_names.append(name + suffix)

    def reset_parameters(self) -> None:
        """Every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)), as torch does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for w in self.parameters():
            nn.init.uniform_(w, -bound, bound)

    def _weights(self, layer: int, d: int) -> dict[str, torch.Tensor | None]:
        suffix = f"_l{layer}" + ("_reverse" if d else "")
        return {n: getattr(self, n + suffix, None)
                for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr")}

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        n = len(self._flat_weights_names) // (self.num_layers * self.num_directions)
        flat = [getattr(self, name) for name in self._flat_weights_names]
        return [flat[i:i + n] for i in range(0, len(flat), n)]

    def flatten_parameters(self) -> None:
        """Nothing to do (torch compacts weights for cuDNN here); kept so callers work."""

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True),
                              ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    # -- input forms -----------------------------------------------------------------

    def _state_shapes(self, batch: int) -> list[tuple[int, ...]]:
        """Shapes of h_0 (and c_0 for the LSTM): (L*D, B, P or H), (L*D, B, H)."""
        ld = self.num_layers * self.num_directions
        shapes = [(ld, batch, self.proj_size or self.hidden_size)]
        return shapes + [(ld, batch, self.hidden_size)] if self.mode == "LSTM" else shapes

    def _initial_state(self, hx, x: torch.Tensor, unbatched: bool) -> tuple[torch.Tensor, ...]:
        shapes = self._state_shapes(x.shape[1])
        if hx is None:
            return tuple(x.new_zeros(s) for s in shapes)
        names = ("hx[0]", "hx[1]") if self.mode == "LSTM" else ("hx",)
        states = tuple(hx) if self.mode == "LSTM" else (hx,)
        if self.mode == "LSTM" and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError("hx: the LSTM expects a tuple (h_0, c_0)")
        out = []
        for name, s, shape in zip(names, states, shapes, strict=True):
            if not isinstance(s, torch.Tensor):
                raise TypeError(f"{name}: expected a torch.Tensor, got {type(s).__name__}")
            want = (shape[0], shape[2]) if unbatched else shape
            if tuple(s.shape) != want:
                raise ValueError(f"{name}: expected shape {want}, got {tuple(s.shape)}")
            out.append(s.unsqueeze(1) if unbatched else s)
        return tuple(out)

    def _time_major(self, input: torch.Tensor) -> tuple[torch.Tensor, bool]:
        """(T, I), (T, B, I) or (B, T, I) -> ((T, B, I), unbatched)."""
        if not isinstance(input, torch.Tensor):
            raise TypeError(f"input: expected a torch.Tensor or PackedSequence, "
                            f"got {type(input).__name__}")
        if input.dim() not in (2, 3):
            raise ValueError(f"input: expected 2 dims (T, I) or 3 dims (T, B, I), "
                             f"got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"input: expected input_size={self.input_size} in the last dim, "
                             f"got shape {tuple(input.shape)}")
        if input.dim() == 2:
            return input.unsqueeze(1), True
        return (input.transpose(0, 1) if self.batch_first else input), False

    def forward(self, input, hx=None):
        """Run all layers and directions over the sequence.

        Args:
            input: (T, I), (T, B, I) ((B, T, I) with batch_first) or a PackedSequence.
            hx: h_0 (L*D, B, P or H) (without the B axis for unbatched input), for the
                LSTM a tuple (h_0, c_0 (L*D, B, H)); None means zeros.

        Returns:
            output (same form as input, last dim D*(P or H)), and h_n, or (h_n, c_n).
        """
        if isinstance(input, PackedSequence):
            x, lengths = pad_packed_sequence(input)  # (T, B, I), original batch order
            lengths, unbatched = lengths.to(x.device), False
        else:
            (x, unbatched), lengths = self._time_major(input), None
        state = self._initial_state(hx, x, unbatched)
        out, final = self._layers(x, state, lengths)
        if isinstance(input, PackedSequence):
            out = _repack(out, input)
        elif unbatched:
            out, final = out.squeeze(1), tuple(s.squeeze(1) for s in final)
        elif self.batch_first:
            out = out.transpose(0, 1)
        return out, (final if self.mode == "LSTM" else final[0])

    # -- the recurrence --------------------------------------------------------------

    def _layers(self, x: torch.Tensor, state, lengths):
        finals = [[] for _ in state]
        for layer in range(self.num_layers):
            outs = []
            for d in range(self.num_directions):
                k = layer * self.num_directions + d
                y, final = self._direction(x, tuple(s[k] for s in state), layer, d, lengths)
                outs.append(y)
                for acc, f in zip(finals, final, strict=True):
                    acc.append(f)
            x = torch.cat(outs, dim=-1) if len(outs) > 1 else outs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, tuple(torch.stack(f) for f in finals)

    def _direction(self, x, state, layer: int, d: int, lengths):
        """One layer in one direction: (T, B, I) -> ((T, B, H or P), final state)."""
        return reference.scan(self._step(self._weights(layer, d)), x, state, lengths,
                              reverse=bool(d))


def _repack(out: torch.Tensor, like: PackedSequence) -> PackedSequence:
    """(T, B, *) padded output in original batch order -> PackedSequence laid out as `like`."""
    if like.sorted_indices is not None:
        out = out.index_select(1, like.sorted_indices)
    data = torch.cat([out[t, :n] for t, n in enumerate(like.batch_sizes.tolist())])
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


class RNN(_Recurrent):
    """torch.nn.RNN (Elman RNN, tanh or relu) written on `hubkit.rnn.reference.rnn_cell`.

    Example:
        >>> rnn = RNN(4, 8, num_layers=2)
        >>> out, h_n = rnn(torch.randn(5, 3, 4))
        >>> out.shape, h_n.shape
        (torch.Size([5, 3, 8]), torch.Size([2, 3, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity: expected 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype)

    def _step(self, w):
        def step(x, state):
            return (reference.rnn_cell(x, state[0], w["weight_ih"], w["weight_hh"],
                                       w["bias_ih"], w["bias_hh"], self.nonlinearity),)
        return step

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity}" if self.nonlinearity != "tanh" else "")


class GRU(_Recurrent):
    """torch.nn.GRU written on `hubkit.rnn.reference.gru_cell`.

    Example:
        >>> gru = GRU(4, 8, batch_first=True)
        >>> gru(torch.randn(3, 5, 4))[0].shape
        torch.Size([3, 5, 8])
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)

    def _step(self, w):
        def step(x, state):
            return (reference.gru_cell(x, state[0], w["weight_ih"], w["weight_hh"],
                                       w["bias_ih"], w["bias_hh"]),)
        return step


class LSTM(_Recurrent):
    """torch.nn.LSTM written on `hubkit.rnn.reference.lstm_cell`; the fused op where it applies.

    Args: as torch.nn.LSTM, plus
        backend: force a backend of `hubkit.ops.lstm` ("reference", "cpp"); None picks by
            device. Layers with proj_size, and PackedSequence input, run the cells instead.

    Example:
        >>> lstm = LSTM(4, 8, proj_size=2)
        >>> out, (h_n, c_n) = lstm(torch.randn(5, 4))
        >>> out.shape, h_n.shape, c_n.shape
        (torch.Size([5, 2]), torch.Size([1, 2]), torch.Size([1, 8]))
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, proj_size: int = 0, device=None, dtype=None,
                 backend: str | None = None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)
        if backend is not None and backend not in lstm_spec.implemented:
            # subtle: checked here too: proj_size and PackedSequence run the cells, never the
            # op, so a bad name would otherwise pass unnoticed.
            raise ValueError(f"backend: hubkit.ops.lstm has no {backend!r} backend; "
                             f"it has {lstm_spec.implemented}")
        self.backend = backend

    def _step(self, w):
        def step(x, state):
            return reference.lstm_cell(x, state, w["weight_ih"], w["weight_hh"], w["bias_ih"],
                                       w["bias_hh"], w["weight_hr"])
        return step

    def _backend_for(self, dtype: torch.dtype) -> str | None:
        """The forced backend; else, for a dtype the cpp kernel lacks (bfloat16, float16),
        "reference" by name (as torch.nn.LSTM runs those dtypes too), never a silent swap."""
        if self.backend is not None or dtype in (torch.float32, torch.float64):
            return self.backend
        return "reference"

    def _direction(self, x, state, layer: int, d: int, lengths):
        if lengths is not None or self.proj_size:
            return super()._direction(x, state, layer, d, lengths)
        w = self._weights(layer, d)
        bias = w["bias_ih"] + w["bias_hh"] if self.bias else None
        xs = x.flip(0) if d else x
        y, h, c = lstm_op(xs, state[0], state[1], w["weight_ih"], w["weight_hh"], bias,
                          backend=self._backend_for(x.dtype))
        return (y.flip(0) if d else y), (h, c)
