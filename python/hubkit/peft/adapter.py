"""LoRA adapters on disk in the `peft` library's own layout, both ways.

A folder holds two files, exactly as `peft.PeftModel.save_pretrained` writes them:

    adapter_config.json          {"peft_type": "LORA", "r": 8, "lora_alpha": 16, ...}
    adapter_model.safetensors    base_model.model.<module>.lora_A.weight  (r, K)
                                 base_model.model.<module>.lora_B.weight  (N, r)

So `peft.PeftModel.from_pretrained(base, folder)` loads what `save_adapter` wrote,
and `load_adapter` loads what peft saved. `<module>` is the layer's name inside
the model given to `apply_lora` (e.g. `transformer.h.0.attn.c_attn` in GPT-2).
A and B keep one layout for `nn.Linear` and GPT-2's `Conv1D`; only the base
weight is stored transposed in Conv1D, which peft records as `fan_in_fan_out`.

Example:
    >>> import tempfile, torch
    >>> from hubkit.peft import apply_lora, save_adapter, load_adapter
    >>> model = apply_lora(torch.nn.Sequential(torch.nn.Linear(4, 4)), ["0"], r=2, alpha=4)
    >>> folder = tempfile.mkdtemp()
    >>> _ = save_adapter(model, folder)
    >>> sorted(p.name for p in Path(folder).iterdir())
    ['adapter_config.json', 'adapter_model.safetensors']
    >>> fresh = load_adapter(torch.nn.Sequential(torch.nn.Linear(4, 4)), folder)
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from hubkit.peft.hf import apply_lora, lora_layers

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
PREFIX = "base_model.model."  # peft's LoraModel wraps the model as `.model` in `.base_model`
PARTS = ("lora_A", "lora_B")

# peft options that change what an adapter computes and that LoRALayer does not implement;
# each is accepted only when off (None, False, "none", {} or []).
UNSUPPORTED = ("use_dora", "use_rslora", "bias", "lora_bias", "rank_pattern", "alpha_pattern",
               "modules_to_save", "layers_to_transform", "trainable_token_indices")
OFF = (None, False, "none", {}, [])


def _task_type(model: nn.Module) -> str | None:
    """peft's task type for a transformers class name: causal LMs only, else None."""
    name = type(model).__name__
    return "CAUSAL_LM" if name.endswith(("ForCausalLM", "LMHeadModel")) else None


def peft_config(model: nn.Module, base_model_name_or_path: str | None = None,
                task_type: str | None = None) -> dict:
    """The adapter_config.json peft expects for the LoRA layers of `model`."""
    cfg = getattr(model, "lora_config", None)
    if not lora_layers(model) or cfg is None:
        raise ValueError("model: has no LoRA layers; call apply_lora first")
    name = base_model_name_or_path or getattr(model, "name_or_path", None) or None
    return {
        "peft_type": "LORA",
        "task_type": task_type or _task_type(model),
        "base_model_name_or_path": name,
        "revision": None,
        "r": cfg["r"],
        "lora_alpha": cfg["alpha"],
        "lora_dropout": cfg["dropout"],
        "target_modules": list(cfg["target_modules"]),
        # subtle: GPT-2's Conv1D stores its weight (in, out); peft calls that fan_in_fan_out.
        "fan_in_fan_out": any(layer.fan_in_fan_out for layer in lora_layers(model).values()),
        "bias": "none",
        "inference_mode": True,
        "init_lora_weights": True,
        "modules_to_save": None,
        "layers_to_transform": None,
        "layers_pattern": None,
        "rank_pattern": {},
        "alpha_pattern": {},
        "use_rslora": False,
        "use_dora": False,
    }


def peft_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """{"base_model.model.<module>.lora_A.weight": (r, K), "...lora_B.weight": (N, r)}."""
    out = {}
    for name, layer in lora_layers(model).items():
        for part in PARTS:
            out[f"{PREFIX}{name}.{part}.weight"] = getattr(layer, part).detach().contiguous()
    return out


def save_adapter(model: nn.Module, path: str | Path, *, base_model_name_or_path: str | None = None,
                 task_type: str | None = None) -> Path:
    """Write the adapter alone into folder `path`, in peft's layout; returns the folder.

    Args:
        model: a model with LoRA layers (`apply_lora`).
        path: folder to create or fill (adapter_config.json, adapter_model.safetensors).
        base_model_name_or_path: recorded for peft (default: the model's `name_or_path`).
        task_type: peft's task type (default: "CAUSAL_LM" for causal LMs, else None).
    """
    from safetensors.torch import save_file

    path = Path(path)
    if path.suffix == ".safetensors" or path.is_file():
        raise ValueError(f"path: expected a folder (peft's layout: {CONFIG_NAME} + "
                         f"{WEIGHTS_NAME}), got the file name {str(path)!r}")
    config = peft_config(model, base_model_name_or_path, task_type)
    path.mkdir(parents=True, exist_ok=True)
    save_file(peft_state_dict(model), str(path / WEIGHTS_NAME), metadata={"format": "pt"})
    (path / CONFIG_NAME).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return path


def _read(path: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    from safetensors.torch import load_file

    for name in (CONFIG_NAME, WEIGHTS_NAME):
        if not (path / name).is_file():
            raise ValueError(f"path: {path} has no {name}; expected an adapter folder saved by "
                             "hubkit's save_adapter or peft's save_pretrained")
    return json.loads((path / CONFIG_NAME).read_text()), load_file(str(path / WEIGHTS_NAME))


def _check_config(config: dict) -> None:
    if config.get("peft_type") != "LORA":
        raise ValueError(f"path: peft_type is {config.get('peft_type')!r}; only LORA adapters "
                         "load into hubkit")
    for option in UNSUPPORTED:
        value = config.get(option)
        if value not in OFF:
            raise ValueError(f"path: adapter_config.json sets {option}={value!r}, which "
                             "hubkit's LoRALayer does not implement")


def _module_names(tensors: dict[str, torch.Tensor]) -> list[str]:
    """The LoRA module names in peft's keys; every key must be <prefix><module>.lora_X.weight."""
    names, bad = {}, []
    for key in tensors:
        module, dot, part = key.removeprefix(PREFIX).removesuffix(".weight").rpartition(".")
        if not key.startswith(PREFIX) or not key.endswith(".weight") or part not in PARTS:
            bad.append(key)
        names.setdefault(module, set()).add(part)
    incomplete = [m for m, parts in names.items() if parts != set(PARTS)]
    if bad or incomplete:
        raise ValueError(f"path: unexpected adapter keys {bad[:4]} or modules without both "
                         f"lora_A and lora_B {incomplete[:4]}")
    return sorted(names)


def load_adapter(model: nn.Module, path: str | Path, *, backend: str | None = None) -> nn.Module:
    """Load an adapter folder (saved by `save_adapter` or by peft) into `model`, in place.

    LoRA is applied first, to exactly the modules the adapter holds, when the
    model has no LoRA layers yet; otherwise its layers must match the adapter's.

    Args:
        model: the base model (or the same model with LoRA applied).
        path: the adapter folder.
        backend: `lora_linear` backend for newly applied layers (None: by device).
    """
    config, tensors = _read(Path(path))
    _check_config(config)
    modules = _module_names(tensors)
    if not lora_layers(model):
        targets = config.get("target_modules")
        apply_lora(model, modules, config["r"], config["lora_alpha"],
                   config.get("lora_dropout", 0.0), backend=backend)
        model.lora_config["target_modules"] = targets if isinstance(targets, list) else modules
    own = {f"{PREFIX}{k}": v for k, v in _own_parameters(model).items()}
    if set(own) != set(tensors):
        raise ValueError(f"path: adapter keys do not match the model's LoRA layers "
                         f"(missing {sorted(set(own) - set(tensors))[:4]}, "
                         f"unexpected {sorted(set(tensors) - set(own))[:4]})")
    with torch.no_grad():
        for key, value in tensors.items():
            if own[key].shape != value.shape:
                raise ValueError(f"path: {key} has shape {tuple(value.shape)}, the model's "
                                 f"layer needs {tuple(own[key].shape)}")
            own[key].copy_(value)
    return model


def _own_parameters(model: nn.Module) -> dict[str, nn.Parameter]:
    return {f"{name}.{part}.weight": getattr(layer, part)
            for name, layer in lora_layers(model).items() for part in PARTS}
