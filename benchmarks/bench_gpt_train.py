"""GPT training step: hubkit.lm (GPT on hubkit::attention) vs a nanoGPT-style plain PyTorch loop.

Run: `pytest benchmarks/bench_gpt_train.py --benchmark-columns=median,iqr,rounds`
(add `--benchmark-json benchmarks/results/gpt-train-cpu-DATE.json` to keep it).

Both providers train the same model, the documented ~10M-parameter configuration
(`hubkit.lm.model.GPTConfig()`: 6 layers, width 384, 6 heads, context 128, vocab
4096) with the same weights, batch (8 x 128 tokens), AdamW and gradient clipping,
on 2 threads (the goal is stated for 2 CPU cores), float32:

* hubkit: `hubkit.lm.train.train_step` on `hubkit.lm.model.GPT`, whose attention is
  the `hubkit::attention` op (reference backend on CPU: explicit softmax with the
  FlashAttention-style log-sum-exp backward);
* nanogpt-torch: the model written the way nanoGPT's model.py writes it, attention by
  `F.scaled_dot_product_attention`, and a plain loop (forward, loss, backward, clip,
  step).

A step is one optimizer step on 1024 tokens, so tokens/s = 1024 / median; the
first step's losses of the two must agree before anything is timed.
Groups: "gpt_train cpu B=8 T=128".
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.conftest import record
from hubkit.lm import train as lm_train
from hubkit.lm.model import GPT, GPTConfig

B, THREADS = 8, 2
CFG = GPTConfig()
TRAIN = lm_train.TrainConfig(warmup=0)


class _NanoAttention(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q, k, v = (z.view(b, t, self.n_head, c // self.n_head).transpose(1, 2) for z in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, H, T, D)
        return self.c_proj(y.transpose(1, 2).contiguous().view(b, t, c))


class _NanoBlock(nn.Module):
    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(cfg.n_embd), nn.LayerNorm(cfg.n_embd)
        self.attn = _NanoAttention(cfg)
        self.mlp = nn.Sequential()
        self.mlp.c_fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd)
        self.mlp.gelu = nn.GELU()
        self.mlp.c_proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class NanoGPT(nn.Module):
    """nanoGPT's GPT, with hubkit.lm.model.GPT's parameter names (so weights load across)."""

    def __init__(self, cfg: GPTConfig) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(cfg.vocab_size, cfg.n_embd), nn.Embedding(
            cfg.block_size, cfg.n_embd)
        self.blocks = nn.ModuleList(_NanoBlock(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


@pytest.fixture(autouse=True)
def _threads():
    before = torch.get_num_threads()
    torch.set_num_threads(THREADS)
    yield
    torch.set_num_threads(before)


def _models():
    torch.manual_seed(0)
    hub = GPT(CFG)
    nano = NanoGPT(CFG)
    nano.load_state_dict(hub.state_dict())
    return hub, nano


def _step_fn(provider: str, model, x, y):
    opt = lm_train.make_optimizer(model, TRAIN)
    if provider == "hubkit":
        return lambda: lm_train.train_step(model, opt, x, y, TRAIN, 1)

    def plain_step():  # nanoGPT's train.py loop, without gradient accumulation
        loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return float(loss.detach())

    return plain_step


def _batch():
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(0, CFG.vocab_size, (B, CFG.block_size + 1), generator=gen)
    return ids[:, :-1].contiguous(), ids[:, 1:].contiguous()  # as nanoGPT's get_batch


def test_first_step_losses_agree():
    hub, nano = _models()
    x, y = _batch()
    a = _step_fn("hubkit", hub, x, y)()
    b = _step_fn("nanogpt-torch", nano, x, y)()
    assert a == pytest.approx(b, rel=1e-5) and a == pytest.approx(math.log(CFG.vocab_size),
                                                                  rel=0.05)


@pytest.mark.parametrize("provider", ["hubkit", "nanogpt-torch"])
def test_gpt_train_step(benchmark, provider):
    hub, nano = _models()
    x, y = _batch()
    fn = _step_fn(provider, hub if provider == "hubkit" else nano, x, y)
    record(benchmark, op="gpt_train", provider=provider,
           shape=f"cpu B={B} T={CFG.block_size}", backend="reference"
           if provider == "hubkit" else "torch", device="cpu", threads=THREADS,
           tokens_per_step=B * CFG.block_size, params=hub.num_params(), fn=fn)
    # the traced call in record() already ran one step: it is the warm-up
    benchmark.pedantic(fn, rounds=3, iterations=1)
