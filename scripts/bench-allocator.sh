#!/usr/bin/env bash
# FP32 eager latency (batch 128) under glibc's default allocator, the engine's setting without its top pad, and the
# engine's full setting (docs/decisions/ADR-001), each in its own process, the three interleaved REPEATS times.
#   scripts/bench-allocator.sh [MODEL=resnet18-cifar]   (env: THREADS, default one per core; REPEATS, default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-resnet18-cifar}"
threads="${THREADS:-$(nproc)}"
repeats="${REPEATS:-1}"
grep -m1 "model name" /proc/cpuinfo
echo "$(nproc) cores, $threads threads, $model, $repeats repeats"
dotnet build bench/ModelOpt.Bench -c Release -nologo -v quiet >/dev/null
BENCH=bench/ModelOpt.Bench/bin/Release/net10.0/linux-x64/ModelOpt.Bench.dll
ARGS=(--model "$model" --threads "$threads" --dataset synthetic --fp32-only true --train-subset 128 --test-subset 200 --timed-runs 20)
for run in $(seq "$repeats"); do
  for keep in 1 top-pad 0; do
    case "$keep" in
      1) label="glibc defaults" ;;
      top-pad) label="engine setting without the top pad" ;;
      *) label="engine setting" ;;
    esac
    row=$(MODELOPT_KEEP_DEFAULT_MALLOC=$keep /usr/bin/time -f "system %S s" dotnet "$BENCH" "${ARGS[@]}" 2>&1 | grep -E "^full|^system")
    echo "run $run, $label: $(echo "$row" | tr '\n' ' ')"
  done
done
