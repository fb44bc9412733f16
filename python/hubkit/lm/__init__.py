"""Language models: GPT, BERT, fine-tuning and fused linear cross-entropy (outline 5.1, 5.2)."""
