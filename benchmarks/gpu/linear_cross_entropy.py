"""GPU benchmarks for fused linear + cross-entropy: peak CUDA memory and fwd+bwd time vs unfused."""

PYTEST_ARGS = ["benchmarks/bench_linear_cross_entropy.py", "-k", "cuda-"]
