#!/usr/bin/env bash
# All GPU checks in one run (< 8 minutes on one H100/H200, no network needed):
# build hubkit with CUDA in place, run the gpu-marked tests and the GPU
# benchmarks, and write one JSON under benchmarks/results/.
#
# Usage: bash benchmarks/gpu_check.sh [extra pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
HUBKIT_CUDA=ON pip install -q --no-build-isolation --no-deps -e . || exit 1
python benchmarks/gpu_check.py "$@"
