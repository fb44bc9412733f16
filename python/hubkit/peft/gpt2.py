"""Adapt GPT-2 (or any causal LM) to one domain's text, with full fine-tuning or LoRA.

`gpt2_domain_finetune` trains on the text of `domain_text` (a file, or Python's own
documentation as an offline stand-in) in random windows and reports the loss
before and after; `python -m hubkit.peft.train gpt2 --help` runs it.

Shapes: B batch, T tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from hubkit import runlog
from hubkit.peft import hf


@dataclass
class GPT2DomainConfig:
    """Settings for `gpt2_domain_finetune`: adapt a causal LM to one domain's text."""

    pretrained: str | None = None
    """A hub name ("gpt2") for real weights; None builds the tiny config from scratch."""
    method: str = "full"
    """"full" or "lora" (LoRA on c_attn and c_proj; sensible with pretrained weights)."""
    text_path: str | None = None
    """Domain text file; None uses hubkit's own Python sources as the domain."""
    steps: int = 200
    batch_size: int = 8
    seq_len: int = 64
    lr: float = 1e-3
    n_layer: int = 2
    n_embd: int = 64
    n_head: int = 2
    lora_r: int = 8
    lora_alpha: float = 16.0
    seed: int = 0


def domain_text(path: str | None = None) -> str:
    """The text of `path`, or (offline default) hubkit's own peft sources."""
    if path is not None:
        return Path(path).read_text(encoding="utf-8")
    return "\n".join(f.read_text() for f in sorted(Path(__file__).parent.glob("*.py")))


def load_gpt2(cfg: GPT2DomainConfig):
    """(encode, model): pretrained weights and tokenizer, or a tiny byte-level model.

    The tiny model reads raw UTF-8 bytes (vocabulary 256), so it needs no
    tokenizer download.
    """
    import transformers

    torch.manual_seed(cfg.seed)
    if cfg.pretrained is not None:
        model = transformers.GPT2LMHeadModel.from_pretrained(cfg.pretrained)
        tokenizer = transformers.AutoTokenizer.from_pretrained(cfg.pretrained)
        return (lambda text: tokenizer(text, return_tensors="pt")["input_ids"][0]), model
    config = transformers.GPT2Config(vocab_size=256, n_positions=cfg.seq_len, n_embd=cfg.n_embd,
                                     n_layer=cfg.n_layer, n_head=cfg.n_head, bos_token_id=0,
                                     eos_token_id=0)
    model = transformers.GPT2LMHeadModel(config)
    return (lambda text: torch.tensor(list(text.encode("utf-8")), dtype=torch.long)), model


def lm_batch(tokens: torch.Tensor, cfg: GPT2DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """(B, T) random windows of the token stream."""
    starts = torch.randint(0, len(tokens) - cfg.seq_len, (cfg.batch_size,), generator=gen)
    return torch.stack([tokens[s:s + cfg.seq_len] for s in starts.tolist()])


def gpt2_domain_finetune(cfg: GPT2DomainConfig | None = None,
                         progress: runlog.Progress | None = None) -> dict:
    """Train GPT-2 on domain text; returns losses, parameter counts and the model.

    `progress` (if given) gets one update a step and a kept line every tenth of the run.
    """
    cfg = cfg or GPT2DomainConfig()
    encode, model = load_gpt2(cfg)
    if cfg.method == "lora":
        hf.apply_lora(model, ["c_attn", "c_proj"], cfg.lora_r, cfg.lora_alpha)
    elif cfg.method != "full":
        raise ValueError(f"method: expected 'full' or 'lora', got {cfg.method!r}")
    tokens = encode(domain_text(cfg.text_path))
    gen = torch.Generator().manual_seed(cfg.seed)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr)
    model.train()
    losses = []
    for _ in range(cfg.steps):
        ids = lm_batch(tokens, cfg, gen)
        loss = model(input_ids=ids, labels=ids).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        _gpt2_progress(progress, len(losses), cfg.steps, losses[-1])
    trainable, total = hf.trainable_parameters(model)
    return {"losses": losses, "trainable": trainable, "total": total, "model": model,
            "method": cfg.method}


def _gpt2_progress(progress: runlog.Progress | None, step: int, steps: int, loss: float) -> None:
    if progress is None:
        return
    progress.update(loss=loss)
    if step % max(1, steps // 10) == 0 and step < steps:
        progress.log(f"  step {step}/{steps}  loss {loss:.4f}")
