"""GPU benchmarks for LoRA: hubkit-triton (fused) vs unfused matmuls vs merged weight (bf16)."""

PYTEST_ARGS = ["benchmarks/bench_lora.py", "-k", "cuda-"]
