"""Parameter-efficient fine-tuning: LoRA (reference, fused op, transformers), prompt/prefix tuning.

`hubkit.peft.apply_lora(model, ...)` wraps a transformers model's linear layers;
transformers itself is imported only when that is called.
"""

from hubkit.peft.adapter import load_adapter, save_adapter
from hubkit.peft.hf import apply_lora, merge_lora

__all__ = ["apply_lora", "load_adapter", "merge_lora", "save_adapter"]
