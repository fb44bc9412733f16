"""GPU benchmarks for conv2d: hubkit's cuda implicit GEMM vs cuDNN, bfloat16."""

PYTEST_ARGS = ["benchmarks/bench_conv2d.py", "-k", "cuda-"]
