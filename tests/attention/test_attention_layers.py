"""hubkit.nn attention layers are drop-ins for torch.nn: same arguments, inputs, state_dict.

Every parity test loads one module's weights into the other and compares, in
float64, the outputs and the gradients of every input and parameter. torch's own
sample inputs are run in test_attention_layers_torch_samples.py.
"""

from __future__ import annotations

import inspect

import pytest
import torch
import torch.nn.functional as F

import hubkit
from hubkit.attention import layers, reference
from hubkit.attention import mha as mha_module


@pytest.fixture(autouse=True)
def _one_thread():
    # subtle: these modules are tiny; on a busy 2-core runner extra intra-op threads
    # make every layer_norm and backward ~10x slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


E, H = 12, 3  # D = 4
N, L, S = 2, 5, 7
DT = torch.float64
CLASSES = ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
           "TransformerEncoder", "TransformerDecoder", "Transformer")


def _pair(name: str, *args, **kw):
    """torch's module and hubkit's, float64, hubkit holding torch's weights."""
    theirs = getattr(torch.nn, name)(*args, **kw).to(DT)
    mine = getattr(hubkit.nn, name)(*args, **kw).to(DT)
    mine.load_state_dict(theirs.state_dict())
    return theirs, mine


def _rand(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=DT)


def _outputs(out) -> list[torch.Tensor]:
    return [t for t in (out if isinstance(out, tuple) else (out,)) if t is not None]


def _run(module, inputs, kwargs, cotangents=None):
    xs = [x.detach().clone().requires_grad_() for x in inputs]
    outs = _outputs(module(*xs, **kwargs))
    if cotangents is None:
        g = torch.Generator().manual_seed(1)
        cotangents = [torch.randn(o.shape, generator=g, dtype=o.dtype) for o in outs]
    params = [p for _, p in sorted(module.named_parameters())]
    grads = torch.autograd.grad(outs, xs + params, cotangents, allow_unused=True)
    return outs, grads, cotangents


def _assert_same(theirs, mine, inputs, **kwargs):
    """Outputs and gradients (inputs, then parameters by name) agree; returns hubkit's outputs."""
    want, want_grads, cot = _run(theirs, inputs, kwargs)
    got, got_grads, _ = _run(mine, inputs, kwargs, cot)
    assert len(got) == len(want)
    for g, w in zip(got + list(got_grads), want + list(want_grads), strict=True):
        if w is None:
            assert g is None or not g.any()
        else:
            torch.testing.assert_close(g, w, equal_nan=True)
    return got


def _seed(gen):
    torch.manual_seed(int(torch.randint(0, 10_000, (1,), generator=gen)))


# ---------------------------------------------------------------- arguments


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("method", ["__init__", "forward"])
def test_signature_is_torchs(name, method):
    def params(cls):
        return [(p.name, p.kind, p.default) for p in
                inspect.signature(getattr(cls, method)).parameters.values()
                if p.kind != p.KEYWORD_ONLY]  # keyword-only: hubkit's extras (backend, rope)

    assert params(getattr(hubkit.nn, name)) == params(getattr(torch.nn, name))


def test_mha_default_is_sequence_first_like_torch(gen):
    """The old default batch_first=True read (L, N, E) input's batch axis as time."""
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H)
    x = _rand(gen, L, N, E)  # (L, N, E): torch's default layout
    _assert_same(theirs, mine, [x, x, x])
    assert not mine.batch_first


@pytest.mark.parametrize("name,args", [("TransformerEncoderLayer", (E, H, 16)),
                                       ("TransformerDecoderLayer", (E, H, 16)),
                                       ("Transformer", (E, H, 1, 1, 16))])
def test_transformer_defaults_are_torchs(name, args, gen):
    _seed(gen)
    theirs, mine = _pair(name, *args)
    attn = mine.self_attn if hasattr(mine, "self_attn") else mine.encoder.layers[0].self_attn
    assert attn.batch_first is False and attn.dropout == 0.1
    theirs.eval(), mine.eval()
    x = _rand(gen, L, N, E)  # (T, N, E)
    _assert_same(theirs, mine, [x] if name.endswith("EncoderLayer") else [x, _rand(gen, S, N, E)])


@pytest.mark.parametrize("name,args,kw", [
    ("MultiheadAttention", (E, H), {}),
    ("MultiheadAttention", (E, H), {"bias": False, "add_bias_kv": True}),
    ("MultiheadAttention", (E, H), {"kdim": 5, "vdim": 7}),
    ("TransformerEncoderLayer", (E, H, 16), {"bias": False}),
    ("TransformerDecoderLayer", (E, H, 16), {}),
    ("Transformer", (E, H, 2, 1, 16), {"bias": False}),
])
def test_state_dict_loads_both_ways(name, args, kw, gen):
    _seed(gen)
    theirs = getattr(torch.nn, name)(*args, **kw)
    mine = getattr(hubkit.nn, name)(*args, **kw)
    assert {k: v.shape for k, v in mine.state_dict().items()} == \
        {k: v.shape for k, v in theirs.state_dict().items()}
    theirs.load_state_dict(mine.state_dict())  # strict: hubkit -> torch
    mine.load_state_dict(theirs.state_dict())  # strict: torch -> hubkit
    for k, v in theirs.state_dict().items():
        assert torch.equal(mine.state_dict()[k], v)


def test_factory_kwargs_create_parameters_in_that_dtype():
    mha = hubkit.nn.MultiheadAttention(E, H, add_bias_kv=True, kdim=5, dtype=DT)
    model = hubkit.nn.Transformer(E, H, 1, 1, 16, device="cpu", dtype=DT)
    assert {p.dtype for p in [*mha.parameters(), *model.parameters()]} == {DT}


def test_square_subsequent_mask_is_torchs():
    torch.testing.assert_close(hubkit.nn.Transformer.generate_square_subsequent_mask(4, dtype=DT),
                               torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=DT))


# ---------------------------------------------------------------- MultiheadAttention


def _mask(kind: str | None, gen, shape, dtype=DT):
    if kind is None:
        return None
    if kind == "bool":
        m = torch.rand(shape, generator=gen) < 0.3
        m[..., 0] = False  # every query keeps a key
        return m
    return _rand(gen, *shape).to(dtype)


@pytest.mark.parametrize("attn,attn_3d", [(None, False), ("bool", False), ("float", False),
                                           ("bool", True), ("float", True)])
@pytest.mark.parametrize("pad", [None, "bool", "float"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_matches_torch_with_masks(attn, attn_3d, pad, batch_first, gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H, batch_first=batch_first)
    q, kv = _rand(gen, L, N, E), _rand(gen, S, N, E)
    if batch_first:
        q, kv = q.transpose(0, 1), kv.transpose(0, 1)
    attn_mask = _mask(attn, gen, (N * H, L, S) if attn_3d else (L, S))
    pad_mask = _mask(pad, gen, (N, S))
    for need_weights in (True, False):
        _assert_same(theirs, mine, [q, kv, kv], attn_mask=attn_mask, key_padding_mask=pad_mask,
                     need_weights=need_weights)


@pytest.mark.parametrize("average", [True, False])
def test_mha_returns_torchs_weights(average, gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H)
    q, kv = _rand(gen, L, N, E), _rand(gen, S, N, E)
    w = _assert_same(theirs, mine, [q, kv, kv], average_attn_weights=average)[1]
    assert w.shape == ((N, L, S) if average else (N, H, L, S))


@pytest.mark.parametrize("kw", [{"add_bias_kv": True}, {"add_zero_attn": True},
                                {"kdim": 5, "vdim": 7}, {"bias": False},
                                {"add_bias_kv": True, "add_zero_attn": True, "kdim": 5}])
@pytest.mark.parametrize("masked", [False, True])
def test_mha_matches_torch_with_options(kw, masked, gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H, **kw)
    q = _rand(gen, L, N, E)
    k, v = _rand(gen, S, N, kw.get("kdim", E)), _rand(gen, S, N, kw.get("vdim", E))
    masks = {}
    if masked:
        masks = {"attn_mask": _mask("bool", gen, (L, S)), "key_padding_mask": _mask("bool", gen,
                                                                                   (N, S))}
    for need_weights in (True, False):
        _assert_same(theirs, mine, [q, k, v], need_weights=need_weights, **masks)


@pytest.mark.parametrize("attn_3d", [False, True])
@pytest.mark.parametrize("kw", [{}, {"add_bias_kv": True, "add_zero_attn": True}])
def test_mha_matches_torch_unbatched(attn_3d, kw, gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H, **kw)
    q, kv = _rand(gen, L, E), _rand(gen, S, E)  # (L, E), (S, E)
    attn_mask = _mask("float", gen, (H, L, S) if attn_3d else (L, S))
    pad = torch.tensor([False] * (S - 2) + [True] * 2)  # (S,)
    for average in (True, False):
        out, w = _assert_same(theirs, mine, [q, kv, kv], attn_mask=attn_mask,
                              key_padding_mask=pad, average_attn_weights=average)
        assert out.shape == (L, E) and w.shape == ((L, S + 2 * bool(kw)) if average else
                                                   (H, L, S + 2 * bool(kw)))


@pytest.mark.parametrize("pad,need_weights", [(False, False), (True, False), (False, True)])
def test_mha_is_causal_hint_matches_torch(pad, need_weights, gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H, add_bias_kv=True)
    x = _rand(gen, L, N, E)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT)
    kw = {"attn_mask": causal, "is_causal": True, "need_weights": need_weights,
          "key_padding_mask": _mask("bool", gen, (N, L)) if pad else None}
    _assert_same(theirs, mine, [x, x, x], **kw)
    assert mine.fused_path(**kw) is not (pad or need_weights)


def test_mha_is_causal_alone_means_the_causal_mask(gen):
    """torch needs attn_mask with is_causal; hubkit also takes the hint alone."""
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H)
    x = _rand(gen, L, N, E)
    mask = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT)
    for need_weights in (True, False):
        want = theirs(x, x, x, attn_mask=mask, need_weights=need_weights)
        got = mine(x, x, x, is_causal=True, need_weights=need_weights)
        for g, w in zip(_outputs(got), _outputs(want), strict=True):
            torch.testing.assert_close(g, w)


def test_mha_fully_masked_rows_match_torch(gen):
    """torch's no-weights path gives 0 for a query that sees no key; gradients stay finite."""
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H)
    x = _rand(gen, L, N, E)
    pad = torch.zeros(N, L, dtype=torch.bool)
    pad[1] = True  # the second sequence is all padding
    out = _assert_same(theirs, mine, [x, x, x], key_padding_mask=pad, need_weights=False)[0]
    assert out[:, 1].eq(mine.out_proj.bias).all()


def test_mha_attention_dropout_matches_torch_with_the_same_seed(gen):
    _seed(gen)
    theirs, mine = _pair("MultiheadAttention", E, H, dropout=0.5)
    x = _rand(gen, L, N, E)
    torch.manual_seed(3)
    want = theirs(x, x, x)
    torch.manual_seed(3)
    got = mine(x, x, x)
    torch.testing.assert_close(got, want)
    assert (got[1] == 0).any()


@pytest.mark.parametrize("call,fused", [
    ({"need_weights": False}, True),
    ({"need_weights": False, "is_causal": True, "attn_mask": "causal"}, True),
    ({"need_weights": False, "attn_mask": "causal"}, False),
    ({"need_weights": True}, False),
])
def test_mha_runs_the_hubkit_op_when_no_mask_is_left(call, fused, gen, monkeypatch):
    calls = []

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return hubkit.ops.attention(*args, **kwargs)

    monkeypatch.setattr(mha_module, "attention", spy)
    mha = hubkit.nn.MultiheadAttention(E, H).double()
    x = _rand(gen, L, N, E)
    if call.get("attn_mask") == "causal":
        call = {**call, "attn_mask": torch.ones(L, L, dtype=torch.bool).triu(1)}
    mha(x, x, x, **call)
    assert mha.fused_path(**call) is fused
    assert len(calls) == int(fused)


# ---------------------------------------------------------------- transformer layers


ACTIVATIONS = ["relu", "gelu", F.gelu, torch.nn.GELU(approximate="tanh"), torch.tanh]


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=["relu", "gelu", "F.gelu", "GELU", "tanh"])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("bias", [True, False])
def test_encoder_layer_matches_torch(activation, norm_first, bias, gen):
    _seed(gen)
    theirs, mine = _pair("TransformerEncoderLayer", E, H, 16, 0.0, activation, 1e-6,
                         norm_first=norm_first, bias=bias)
    x = _rand(gen, L, N, E)
    _assert_same(theirs, mine, [x])
    _assert_same(theirs, mine, [x], src_mask=_mask("float", gen, (L, L)),
                 src_key_padding_mask=_mask("bool", gen, (N, L)))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(batch_first, norm_first, gen):
    _seed(gen)
    theirs, mine = _pair("TransformerDecoderLayer", E, H, 16, 0.0, "gelu",
                         batch_first=batch_first, norm_first=norm_first)
    tgt, mem = _rand(gen, L, N, E), _rand(gen, S, N, E)
    if batch_first:
        tgt, mem = tgt.transpose(0, 1), mem.transpose(0, 1)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT)
    _assert_same(theirs, mine, [tgt, mem], tgt_mask=causal, tgt_is_causal=True,
                 memory_mask=_mask("bool", gen, (N * H, L, S)),
                 tgt_key_padding_mask=_mask("bool", gen, (N, L)),
                 memory_key_padding_mask=_mask("float", gen, (N, S)))
    one = (lambda t: t[0]) if batch_first else (lambda t: t[:, 0])
    _assert_same(theirs, mine, [one(tgt), one(mem)])  # unbatched (T, E)


def test_layers_match_torch_in_training_without_dropout(gen):
    _seed(gen)
    theirs, mine = _pair("TransformerEncoderLayer", E, H, 16, 0.0)
    theirs.train(), mine.train()
    _assert_same(theirs, mine, [_rand(gen, L, N, E)], src_key_padding_mask=_mask("bool", gen,
                                                                                (N, L)))


def test_encoder_layer_rejects_an_unknown_activation_by_name():
    with pytest.raises(ValueError, match="activation"):
        hubkit.nn.TransformerEncoderLayer(E, H, activation="swish")


# ---------------------------------------------------------------- stacks


@pytest.mark.parametrize("mask", [None, "causal", "float"])
def test_encoder_stack_matches_torch(mask, gen):
    _seed(gen)
    layer_args = (E, H, 16, 0.0)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(*layer_args), 2,
                                         torch.nn.LayerNorm(E), enable_nested_tensor=False)
    mine = hubkit.nn.TransformerEncoder(hubkit.nn.TransformerEncoderLayer(*layer_args), 2,
                                        torch.nn.LayerNorm(E), enable_nested_tensor=False)
    mine.load_state_dict(theirs.state_dict())
    theirs, mine = theirs.to(DT), mine.to(DT)
    m = {None: None, "float": _mask("float", gen, (L, L)),
         "causal": torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT)}[mask]
    _assert_same(theirs, mine, [_rand(gen, L, N, E)], mask=m,
                 src_key_padding_mask=_mask("bool", gen, (N, L)))


def test_decoder_stack_matches_torch_and_detects_the_causal_mask(gen, monkeypatch):
    _seed(gen)
    layer_args = (E, H, 16, 0.0)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(*layer_args), 2)
    mine = hubkit.nn.TransformerDecoder(hubkit.nn.TransformerDecoderLayer(*layer_args), 2)
    mine.load_state_dict(theirs.state_dict())
    theirs, mine = theirs.to(DT), mine.to(DT)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT)
    calls = []
    monkeypatch.setattr(mha_module, "attention", lambda *a, **k: calls.append(k) or
                        hubkit.ops.attention(*a, **k))
    _assert_same(theirs, mine, [_rand(gen, L, N, E), _rand(gen, S, N, E)], tgt_mask=causal)
    assert [c["causal"] for c in calls] == [True, False, True, False]  # self, cross per layer


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer_matches_torch(batch_first, norm_first, gen):
    _seed(gen)
    theirs, mine = _pair("Transformer", E, H, 2, 1, 16, 0.0, batch_first=batch_first,
                         norm_first=norm_first)
    src, tgt = _rand(gen, S, N, E), _rand(gen, L, N, E)
    if batch_first:
        src, tgt = src.transpose(0, 1), tgt.transpose(0, 1)
    masks = {"tgt_mask": torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=DT),
             "src_key_padding_mask": _mask("bool", gen, (N, S)),
             "memory_key_padding_mask": _mask("bool", gen, (N, S)),
             "src_mask": _mask("float", gen, (S, S)), "memory_mask": _mask("bool", gen, (L, S))}
    _assert_same(theirs, mine, [src, tgt], **masks)


def test_transformer_takes_custom_encoder_and_decoder(gen):
    _seed(gen)
    enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, H, 16, 0.0), 1)
    dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, H, 16, 0.0), 1)
    theirs = torch.nn.Transformer(E, H, custom_encoder=enc, custom_decoder=dec)
    mine = hubkit.nn.Transformer(E, H, custom_encoder=hubkit.nn.TransformerEncoder(
        hubkit.nn.TransformerEncoderLayer(E, H, 16, 0.0), 1), custom_decoder=dec)
    mine.load_state_dict(theirs.state_dict())
    _assert_same(theirs.to(DT), mine.to(DT), [_rand(gen, S, N, E), _rand(gen, L, N, E)])


def test_reference_transformer_matches_torch(gen):
    _seed(gen)
    theirs = torch.nn.Transformer(E, H, 2, 1, 16, 0.0, batch_first=True).to(DT).eval()
    src, tgt = _rand(gen, N, S, E), _rand(gen, N, L, E)
    want = theirs(src, tgt, tgt_mask=theirs.generate_square_subsequent_mask(L, dtype=DT))
    torch.testing.assert_close(reference.transformer(src, tgt, theirs.state_dict(), (2, 1), H),
                               want)


# ---------------------------------------------------------------- errors


def test_mha_rejects_heads_that_do_not_divide_embed_dim():
    with pytest.raises(ValueError, match="num_heads"):
        hubkit.nn.MultiheadAttention(10, 3)


@pytest.mark.parametrize("kw,match", [
    ({"key_padding_mask": torch.zeros(N, S + 1, dtype=torch.bool)}, "key_padding_mask"),
    ({"attn_mask": torch.zeros(L, S + 1, dtype=torch.bool)}, "attn_mask"),
    ({"attn_mask": torch.zeros(N, L, S, dtype=torch.bool)}, "attn_mask"),
    ({"attn_mask": torch.zeros(L, S, dtype=torch.long)}, "attn_mask"),
])
def test_mha_rejects_bad_masks_by_name(kw, match, gen):
    mha = hubkit.nn.MultiheadAttention(E, H).double()
    q, kv = _rand(gen, L, N, E), _rand(gen, S, N, E)
    with pytest.raises(ValueError, match=match):
        mha(q, kv, kv, **kw)


@pytest.mark.parametrize("shapes,match", [
    (((N, L, E, 1), (S, N, E), (S, N, E)), "query"),
    (((L, N, E), (S, N, E + 1), (S, N, E)), "key"),
    (((L, N, E), (S, N, E), (S + 1, N, E)), "value"),
    (((L, N, E), (S, N + 1, E), (S, N + 1, E)), "key"),
])
def test_mha_rejects_bad_inputs_by_name(shapes, match, gen):
    mha = hubkit.nn.MultiheadAttention(E, H).double()
    with pytest.raises(ValueError, match=match):
        mha(*(_rand(gen, *s) for s in shapes))


def test_transformer_rejects_mismatched_batches_by_name(gen):
    model = hubkit.nn.Transformer(E, H, 1, 1, 16).double()
    with pytest.raises(ValueError, match="tgt"):
        model(_rand(gen, S, N, E), _rand(gen, L, N + 1, E))


@pytest.mark.parametrize("backend,device,d,dtype,forced,want", [
    (None, "cpu", 4, DT, None, None),  # the op picks (reference on CPU)
    (None, "cuda", 24, torch.float32, None, None),  # the op picks (triton)
    (None, "cuda", 256, torch.float32, None, "reference"),  # beyond the kernels' D
    (None, "cuda", 16, DT, None, "reference"),  # float64: no kernel
    (None, "cuda", 16, DT, "triton", None),  # use_backend wins, and the op raises
    ("triton", "cuda", 16, DT, None, "triton"),  # asked for by name, and the op raises
])
def test_mha_asks_the_op_for_its_reference_backend_only_where_kernels_lack(
        backend, device, d, dtype, forced, want):
    with hubkit.ops.use_backend(forced):
        assert layers._op_backend(backend, torch.device(device), d, dtype) == want


@pytest.mark.parametrize("backend", ["cuda", "cpp", "fortran"])
def test_mha_rejects_a_backend_the_attention_op_lacks_when_built(backend):
    # the weights path (torch's default need_weights=True) never reaches the op's own check
    for make in (lambda: hubkit.nn.MultiheadAttention(E, H, backend=backend),
                 lambda: hubkit.nn.TransformerEncoderLayer(E, H, 16, backend=backend)):
        with pytest.raises(ValueError, match=f"backend: .* no '{backend}' backend"):
            make()
