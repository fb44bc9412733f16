"""Language models: GPT, BERT, fine-tuning and fused linear cross-entropy (outline 5.1, 5.2).

Modules: `data` (offline corpora: Python's docs and stdlib sources, or a folder of
text; the char-LSTM's loader too), `corpus` (hubkit BPE tokenizer and id streams),
`model` (`GPT`, `GPTConfig`, `KVCache`), `sampling` (temperature, top-k, top-p),
`reference` (one attention layer, full and with a KV cache: exercise kv_cache),
`train` (`python -m hubkit.lm.train`, one process or N under torchrun with DDP),
`distributed` (the torch.distributed pieces it uses), `bert` (masked-LM encoder and
the masked-vs-causal comparison), `plots`; `ops` and `cross_entropy` hold the fused
`hubkit.ops.linear_cross_entropy`. Fine-tuning MiniLM and GPT-2 lives in `hubkit.peft`.
"""
