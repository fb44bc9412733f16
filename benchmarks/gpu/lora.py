"""GPU benchmarks for LoRA: fused triton vs unfused three matmuls vs merged weight (bf16)."""

PYTEST_ARGS = ["benchmarks/bench_lora.py", "-k", "cuda-"]
