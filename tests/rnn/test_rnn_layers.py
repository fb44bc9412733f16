"""hubkit.nn.RNN/LSTM/GRU as drop-ins for torch.nn.RNN/LSTM/GRU: outputs and grads in float64."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence
from torch.testing._internal.common_modules import module_db

import hubkit

# subtle: importing torch's test helpers freezes torch.backends flags for the whole test
# process (disable_global_flags); later in-process checker runs set TF32 off. Undo it.
torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
assert not torch.backends.flags_frozen()

F64 = torch.float64
PAIRS = {nn.RNN: hubkit.nn.RNN, nn.LSTM: hubkit.nn.LSTM, nn.GRU: hubkit.nn.GRU}


def _tensors(obj):
    """Every tensor inside nested tuples/lists or a PackedSequence."""
    if isinstance(obj, PackedSequence):
        return [obj.data]
    if isinstance(obj, torch.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    return []


def _clone(obj):
    if isinstance(obj, PackedSequence):
        return obj._replace(data=obj.data.detach().clone().requires_grad_())
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone().requires_grad_(obj.is_floating_point())
    if isinstance(obj, (tuple, list)):
        return type(obj)(_clone(o) for o in obj)
    return obj


def assert_same_as_torch(torch_cls, args, kwargs, forward_args, gen):
    """Build both modules with torch's weights, run, and compare outputs and every gradient."""
    ours_cls = PAIRS[torch_cls]
    want_mod = torch_cls(*args, **kwargs, dtype=F64)
    ours = ours_cls(*args, **kwargs, dtype=F64)
    assert list(ours.state_dict()) == list(want_mod.state_dict())
    ours.load_state_dict(want_mod.state_dict())
    in_ours, in_want = _clone(forward_args), _clone(forward_args)
    got, want = ours(*in_ours), want_mod(*in_want)
    got_t, want_t = _tensors(got), _tensors(want)
    assert len(got_t) == len(want_t)
    for g, w in zip(got_t, want_t, strict=True):
        torch.testing.assert_close(g, w)
    if isinstance(want[0], PackedSequence):
        for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
            torch.testing.assert_close(getattr(got[0], name), getattr(want[0], name))
    weights = [torch.randn(w.shape, generator=gen, dtype=F64) for w in want_t]
    sum(  # one scalar that weighs every output differently
        (g * w).sum() for g, w in zip(got_t, weights, strict=True)).backward()
    sum((t * w).sum() for t, w in zip(want_t, weights, strict=True)).backward()
    for a, b in zip(_tensors(in_ours), _tensors(in_want), strict=True):
        torch.testing.assert_close(a.grad, b.grad)
    for (name, p), q in zip(ours.named_parameters(), want_mod.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, msg=lambda m, n=name: f"{n}: {m}")


def _module_db_samples():
    for info in module_db:
        if info.module_cls in PAIRS:
            samples = info.module_inputs_func(info, device="cpu", dtype=F64, requires_grad=True,
                                              training=True)
            for i, s in enumerate(samples):
                yield pytest.param(info.module_cls, s, id=f"{info.module_cls.__name__}-{i}")


@pytest.mark.parametrize(("torch_cls", "sample"), list(_module_db_samples()))
def test_matches_torch_on_torchs_own_module_db_samples(torch_cls, sample, gen):
    c, f = sample.constructor_input, sample.forward_input
    assert_same_as_torch(torch_cls, c.args, c.kwargs, list(f.args), gen)


CASES = [
    dict(num_layers=1),
    dict(num_layers=3, bidirectional=True),
    dict(num_layers=2, batch_first=True),
    dict(num_layers=2, bias=False, bidirectional=True, batch_first=True),
]


@pytest.mark.parametrize("torch_cls", list(PAIRS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("cfg", CASES, ids=str)
@pytest.mark.parametrize("with_state", [False, True], ids=["no_hx", "hx"])
def test_matches_torch_on_batched_input(torch_cls, cfg, with_state, gen):
    d = 2 if cfg.get("bidirectional") else 1
    x = torch.randn(5, 3, 4, generator=gen, dtype=F64)  # (T, B, I) or (B, T, I)
    hx = None
    if with_state:
        h = torch.randn(cfg["num_layers"] * d, 5 if cfg.get("batch_first") else 3, 6,
                        generator=gen, dtype=F64)
        hx = (h, torch.randn(h.shape, generator=gen, dtype=F64)) if torch_cls is nn.LSTM else h
    assert_same_as_torch(torch_cls, (4, 6), cfg, [x, hx], gen)


@pytest.mark.parametrize("cfg", [dict(proj_size=3), dict(proj_size=2, num_layers=2,
                                                          bidirectional=True)], ids=str)
def test_lstm_with_projection_matches_torch(cfg, gen):
    x = torch.randn(4, 2, 5, generator=gen, dtype=F64)
    ld = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
    hx = (torch.randn(ld, 2, cfg["proj_size"], generator=gen, dtype=F64),
          torch.randn(ld, 2, 7, generator=gen, dtype=F64))
    assert_same_as_torch(nn.LSTM, (5, 7), cfg, [x], gen)
    assert_same_as_torch(nn.LSTM, (5, 7), cfg, [x, hx], gen)


def test_rnn_relu_matches_torch(gen):
    x = torch.randn(6, 2, 3, generator=gen, dtype=F64)
    assert_same_as_torch(nn.RNN, (3, 4), dict(nonlinearity="relu", num_layers=2), [x], gen)


@pytest.mark.parametrize("torch_cls", list(PAIRS), ids=lambda c: c.__name__)
@pytest.mark.parametrize("enforce_sorted", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_matches_torch_on_packed_sequences(torch_cls, enforce_sorted, bidirectional, gen):
    lengths = [5, 3, 3, 1] if enforce_sorted else [2, 5, 1, 3]
    x = torch.randn(5, 4, 3, generator=gen, dtype=F64)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
    cfg = dict(num_layers=2, bidirectional=bidirectional)
    assert_same_as_torch(torch_cls, (3, 4), cfg, [packed], gen)
    h = torch.randn(2 * (2 if bidirectional else 1), 4, 4, generator=gen, dtype=F64)
    hx = (h, torch.randn(h.shape, generator=gen, dtype=F64)) if torch_cls is nn.LSTM else h
    assert_same_as_torch(torch_cls, (3, 4), cfg, [packed, hx], gen)


def test_lstm_with_projection_matches_torch_on_packed_sequences(gen):
    x = torch.randn(4, 3, 3, generator=gen, dtype=F64)
    packed = pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    assert_same_as_torch(nn.LSTM, (3, 5), dict(proj_size=2, bidirectional=True), [packed], gen)


@pytest.mark.parametrize("torch_cls", list(PAIRS), ids=lambda c: c.__name__)
def test_dropout_between_layers_matches_torch_with_the_same_seed(torch_cls, gen):
    x = torch.randn(4, 2, 3, generator=gen, dtype=F64)
    torch.manual_seed(5)
    want_mod = torch_cls(3, 4, num_layers=3, dropout=0.5, dtype=F64)
    ours = PAIRS[torch_cls](3, 4, num_layers=3, dropout=0.5, dtype=F64)
    ours.load_state_dict(want_mod.state_dict())
    torch.manual_seed(1)
    want = want_mod(x)[0]
    torch.manual_seed(1)
    got = ours(x)[0]
    torch.testing.assert_close(got, want)
    ours.eval(), want_mod.eval()
    torch.testing.assert_close(ours(x)[0], want_mod(x)[0])
    assert not torch.allclose(got, ours(x)[0])  # dropout did act in training mode


@pytest.mark.parametrize("torch_cls", list(PAIRS), ids=lambda c: c.__name__)
def test_initialisation_draws_the_same_weights_as_torch(torch_cls):
    torch.manual_seed(3)
    want = torch_cls(3, 5, num_layers=2, bidirectional=True)
    torch.manual_seed(3)
    ours = PAIRS[torch_cls](3, 5, num_layers=2, bidirectional=True)
    for (k, v), (k2, v2) in zip(ours.state_dict().items(), want.state_dict().items(),
                                strict=True):
        assert k == k2
        torch.testing.assert_close(v, v2)


def test_lstm_runs_on_the_fused_op_without_projection(monkeypatch):
    calls = []
    real = torch.ops.hubkit.lstm

    class Spy:
        def __call__(self, *args):
            calls.append(args[-1])
            return real(*args)

    monkeypatch.setattr(torch.ops.hubkit, "lstm", Spy())
    lstm = hubkit.nn.LSTM(3, 4, num_layers=2, bidirectional=True, backend="reference")
    lstm(torch.randn(5, 2, 3))
    assert calls == ["reference"] * 4
    calls.clear()
    hubkit.nn.LSTM(3, 4, proj_size=2)(torch.randn(5, 2, 3))
    assert calls == []


@pytest.mark.parametrize(("kwargs", "name"), [
    (dict(nonlinearity="sigmoid"), "nonlinearity"),
    (dict(dropout=1.5), "dropout"),
    (dict(num_layers=0), "num_layers"),
    (dict(hidden_size=0), "hidden_size"),
])
def test_bad_rnn_options_raise_naming_the_option(kwargs, name):
    args = dict(input_size=3, hidden_size=4) | kwargs
    with pytest.raises(ValueError, match=name):
        hubkit.nn.RNN(**args)


def test_lstm_proj_size_not_below_hidden_size_raises():
    with pytest.raises(ValueError, match="proj_size"):
        hubkit.nn.LSTM(3, 4, proj_size=4)


def test_wrong_input_size_or_state_shape_raises_naming_the_argument():
    gru = hubkit.nn.GRU(3, 4)
    with pytest.raises(ValueError, match="input: expected input_size=3"):
        gru(torch.randn(5, 2, 2))
    with pytest.raises(ValueError, match="hx: expected shape"):
        gru(torch.randn(5, 2, 3), torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match=r"hx\[1\]: expected shape"):
        hubkit.nn.LSTM(3, 4)(torch.randn(5, 3), (torch.zeros(1, 4), torch.zeros(1, 5)))


def test_lstm_in_bfloat16_runs_the_reference_backend_and_matches_torch(gen):
    torch.manual_seed(0)
    want_mod = nn.LSTM(3, 8, dtype=torch.bfloat16)
    ours = hubkit.nn.LSTM(3, 8, dtype=torch.bfloat16)
    ours.load_state_dict(want_mod.state_dict())
    x = torch.randn(6, 2, 3, generator=gen).bfloat16()
    got, want = ours(x)[0], want_mod(x)[0]
    assert got.dtype == torch.bfloat16
    torch.testing.assert_close(got.float(), want.float(), atol=3e-2, rtol=3e-2)


@pytest.mark.parametrize("backend", ["cuda", "fortran"])
def test_lstm_rejects_a_backend_the_lstm_op_lacks_when_built(backend):
    # proj_size and PackedSequence run the cells and never reach the op's own check
    with pytest.raises(ValueError, match=f"backend: .* no '{backend}' backend"):
        hubkit.nn.LSTM(4, 8, proj_size=2, backend=backend)
