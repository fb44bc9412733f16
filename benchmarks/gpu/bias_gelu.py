"""GPU benchmarks for the proof op: hubkit cuda/triton vs torch's unfused gelu(x + b)."""

PYTEST_ARGS = ["benchmarks/bench_bias_gelu.py", "-k", "cuda-"]
