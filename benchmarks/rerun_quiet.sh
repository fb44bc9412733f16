#!/usr/bin/env bash
# Re-measure every CPU result under benchmarks/results/ on a QUIET machine
# (nothing else running; about 15 minutes on 2 cores, most of it bench_replay
# and bench_envs). Each file records its command, machine, load, commit and
# what every provider ran; check "quiet": true in machine_info.load (pytest
# files) or provenance.load (the others) before quoting a number.
#
# Usage: bash benchmarks/rerun_quiet.sh [DATE]      (DATE defaults to today, UTC)
# Then delete the files of older dates that these replace, and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
DATE=${1:-$(date -u +%F)}
R=benchmarks/results
B=(python -m pytest -p no:cacheprovider -q --benchmark-only --benchmark-columns=median,iqr,rounds)

"${B[@]}" benchmarks/bench_bias_gelu.py -k cpu- --benchmark-json "$R/bias_gelu-cpu-$DATE.json"
"${B[@]}" benchmarks/bench_conv2d.py -k "cpu- and not reference" \
    --benchmark-json "$R/conv2d-cpu-$DATE.json"
"${B[@]}" benchmarks/bench_attention.py -k cpu- --benchmark-json "$R/attention-cpu-$DATE.json"
"${B[@]}" benchmarks/bench_lora.py -k cpu- --benchmark-json "$R/lora-cpu-$DATE.json"
"${B[@]}" benchmarks/bench_replay.py --benchmark-json "$R/replay-cpu-$DATE.json"
"${B[@]}" benchmarks/bench_envs.py --benchmark-json "$R/envs-pytest-cpu-$DATE.json"
python benchmarks/bench_envs.py --out "$R/envs-cpu-$DATE.json"
python benchmarks/provenance.py --out "$R/peft-minilm-cpu-$DATE" -- \
    python -m hubkit.peft.train classify --steps 60 --out "$R/peft-minilm-cpu-$DATE"
python benchmarks/provenance.py --out "$R/envs-train-$DATE" -- \
    python -m hubkit.envs.train --out "$R/envs-train-$DATE"
