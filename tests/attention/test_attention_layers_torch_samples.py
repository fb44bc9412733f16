"""hubkit.nn attention layers against torch.nn on torch's own sample inputs.

torch's module test suite describes every nn.Module by a ModuleInfo in
`torch.testing._internal.common_modules.module_db`; its `module_inputs_func` yields
the constructor and forward arguments torch tests the module with (unbatched inputs,
bool masks, batch_first both ways, norm_first, bias=False, gelu, ...). Each sample
builds torch's module and hubkit's from the same arguments, copies torch's
state_dict into hubkit's, and compares outputs and the gradients of every input and
parameter in float64.
"""

from __future__ import annotations

import pytest
import torch
from torch.testing._internal import common_modules

import hubkit

# subtle: importing torch's test helpers calls torch.backends.disable_global_flags(), which
# freezes the flags for the whole test process; the checker, run in-process by later tests,
# sets TF32 off and would then raise. Undo the freeze.
torch.backends.flags_frozen.__globals__["__allow_nonbracketed_mutation_flag"] = True
assert not torch.backends.flags_frozen()


@pytest.fixture(autouse=True)
def _one_thread():
    # subtle: these modules are tiny; on a busy 2-core runner extra intra-op threads
    # make every layer_norm and backward ~10x slower.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


NAMES = ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer",
         "Transformer", "TransformerEncoder")


def _info(name: str):
    cls = getattr(torch.nn, name)
    return next(info for info in common_modules.module_db if info.module_cls is cls)


def _samples(name: str, training: bool):
    return list(_info(name).module_inputs_func(_info(name), device="cpu", dtype=torch.float64,
                                               requires_grad=True, training=training))


def _hubkit_args(name: str, training: bool):
    """Constructor (args, kwargs) for hubkit, one per sample.

    TransformerEncoder's samples hold a built torch layer; torch derives them, in order,
    from the TransformerEncoderLayer samples, so hubkit builds its own layer from those.
    """
    samples = _samples(name, training)
    if name != "TransformerEncoder":
        return [(s.constructor_input.args, s.constructor_input.kwargs) for s in samples]
    layers = _samples("TransformerEncoderLayer", training)
    assert len(layers) == len(samples)
    out = []
    for layer, sample in zip(layers, samples, strict=True):
        num_layers = sample.constructor_input.args[1]
        c = layer.constructor_input
        out.append(((hubkit.nn.TransformerEncoderLayer(*c.args, **c.kwargs), num_layers), {}))
    return out


def _tensors(out) -> list[torch.Tensor]:
    items = out if isinstance(out, tuple) else (out,)
    return [t for t in items if t is not None]


def _run(module: torch.nn.Module, fwd, cotangents=None):
    """Outputs, and gradients of inputs then parameters for the given output cotangents."""
    outs = _tensors(module(*fwd.args, **fwd.kwargs))
    if cotangents is None:
        gen = torch.Generator().manual_seed(0)
        cotangents = [torch.randn(o.shape, generator=gen, dtype=o.dtype) for o in outs]
    inputs = [a for a in fwd.args if isinstance(a, torch.Tensor) and a.requires_grad]
    params = [p for _, p in sorted(module.named_parameters())]
    grads = torch.autograd.grad(outs, inputs + params, cotangents, allow_unused=True)
    return outs, grads, cotangents


def _compare(name: str, sample, hub_args, training: bool) -> None:
    c = sample.constructor_input
    theirs = getattr(torch.nn, name)(*c.args, **c.kwargs).to(torch.float64).train(training)
    mine = getattr(hubkit.nn, name)(*hub_args[0], **hub_args[1]).to(torch.float64)
    mine.load_state_dict(theirs.state_dict())
    mine.train(training)
    want, want_grads, cot = _run(theirs, sample.forward_input)
    got, got_grads, _ = _run(mine, sample.forward_input, cot)
    assert len(got) == len(want)
    for g, w in zip(got + list(got_grads), want + list(want_grads), strict=True):
        if w is None:
            assert g is None or not g.any()
        else:
            torch.testing.assert_close(g, w, equal_nan=True)


@pytest.mark.parametrize("training", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("name", NAMES)
def test_layer_matches_torch_on_torchs_sample_inputs(name, training):
    samples = _samples(name, training)
    hub_args = _hubkit_args(name, training)
    assert len(samples) >= 8, f"torch gave only {len(samples)} samples for {name}"
    failures = []
    for i, (sample, args) in enumerate(zip(samples, hub_args, strict=True)):
        try:
            _compare(name, sample, args, training)
        except (AssertionError, ValueError, RuntimeError) as err:
            failures.append(f"sample {i} ({sample.desc or sample.constructor_input}): {err}")
    assert not failures, f"{len(failures)}/{len(samples)} samples differ:\n" + "\n".join(
        failures[:5])
