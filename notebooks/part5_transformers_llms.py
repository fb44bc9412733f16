# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Part 5: Transformers and LLMs
#
# Tokenization with byte-level BPE and parameter-efficient fine-tuning with
# LoRA, from hubkit's references. More of Part 5 (the transformer language
# model, embeddings) lives in `hubkit.lm` and `hubkit.embeddings`. Exercises:
# `bpe_python`, `bpe_cpp`, `lora_python`, `lora_triton`, ...

# %%
import matplotlib.pyplot as plt
import torch
from torch import nn

from hubkit.peft.reference import LoRALinear
from hubkit.tokenizers.tokenizer import BPETokenizer

# %% [markdown]
# ## Byte-level BPE
# Merges are learned from pair counts: frequent pieces become single tokens.

# %%
text = ("the cat sat on the mat. the dog sat on the log. " * 30
        + "a lower lowest low slow slower slowest " * 20)
tok = BPETokenizer(pattern="gpt2", backend="reference").train(text, vocab_size=300)
ids = tok.encode("the slowest cat sat")
print(len(ids), "tokens:", [tok.decode([i]) for i in ids])
print("round trip:", tok.decode(ids))
sizes = [len(tok.decode_bytes([256 + i])) for i in range(len(tok.merges))]
plt.plot(sizes, marker="."); plt.xlabel("merge number"); plt.ylabel("token length (bytes)")
plt.title("later merges build longer tokens"); plt.show()

# %% [markdown]
# ## LoRA: train a low-rank update, keep the base frozen
# B starts at zero, so the adapted layer equals the base layer at step 0.

# %%
torch.manual_seed(0)
base = nn.Linear(32, 32)
layer = LoRALinear(base, r=4, alpha=8.0)
trainable = [n for n, p in layer.named_parameters() if p.requires_grad]
print("trainable:", trainable, sum(p.numel() for p in layer.parameters() if p.requires_grad),
      "of", sum(p.numel() for p in layer.parameters()))
x = torch.randn(64, 32)
target = base(x) + 0.1 * x @ torch.randn(32, 4) @ torch.randn(4, 32)  # a rank-4 change
opt = torch.optim.Adam([p for p in layer.parameters() if p.requires_grad], lr=1e-2)
losses = []
for _ in range(150):
    loss = ((layer(x) - target) ** 2).mean()
    opt.zero_grad(); loss.backward(); opt.step()
    losses.append(loss.item())
plt.semilogy(losses); plt.title("LoRA fits a rank-4 change"); plt.xlabel("step"); plt.show()
