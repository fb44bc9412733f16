"""GPU benchmarks for attention: fused triton vs SDPA flash vs reference, B=4 H=16 bf16,
T in {1024, 4096}, D in {64, 128}, causal and not (the cuda- cases of bench_attention)."""

PYTEST_ARGS = ["benchmarks/bench_attention.py", "-k", "cuda-"]
