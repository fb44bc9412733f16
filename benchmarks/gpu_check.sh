#!/usr/bin/env bash
# All GPU checks in one run (< 8 minutes on one H100/H200, no network needed):
# build hubkit with CUDA in place, run the gpu-marked tests and the GPU
# benchmarks, and write one JSON under benchmarks/results/.
#
# --dry-run proves the plumbing on a CPU machine: the same build (CUDA on, no
# build isolation), then every GPU test and benchmark collected and written to
# the JSON as "skipped: no device". --no-build skips the build.
#
# Usage: bash benchmarks/gpu_check.sh [--dry-run] [--no-build] [gpu_check.py/pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
build=1
args=()
for arg in "$@"; do
  if [ "$arg" = "--no-build" ]; then build=0; else args+=("$arg"); fi
done
if [ "$build" = 1 ]; then
  # subtle: the build folder may be shared with other builds: hold the lock where flock
  # exists. The define (not only the env) because a configured cache ignores the env.
  lock=()
  if command -v flock >/dev/null; then lock=(flock /tmp/hubkit-build.lock); fi
  HUBKIT_CUDA=ON "${lock[@]}" pip install -q --no-build-isolation --no-deps \
    -C cmake.define.HUBKIT_CUDA=ON -e . || exit 1
  python - <<'PY' || exit 1
import json, sys
from importlib.resources import files
info = json.loads(files("hubkit").joinpath("_build_info.json").read_text())
print("build:", {k: info.get(k) for k in ("cuda", "cuda_request", "cpp")})
if not str(info.get("cuda", "")).startswith("built"):
    sys.exit(f"hubkit._cuda was not built: {info.get('cuda')}")
PY
fi
python benchmarks/gpu_check.py "${args[@]}"
