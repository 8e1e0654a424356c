#!/usr/bin/env bash
# FP32 latency of resnet18-cifar (batch 128) with glibc's default allocator and with the engine's setting
# (docs/decisions/ADR-001), each in its own process, same machine, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/ModelOpt.Bench -c Release -nologo -v quiet >/dev/null
BENCH=bench/ModelOpt.Bench/bin/Release/net10.0/linux-x64/ModelOpt.Bench.dll
ARGS=(--model resnet18-cifar --dataset synthetic --fp32-only true --train-subset 128 --test-subset 200 --timed-runs 20)
for keep in 1 0; do
  label=$([ "$keep" = 1 ] && echo "glibc defaults" || echo "engine setting")
  row=$(MODELOPT_KEEP_DEFAULT_MALLOC=$keep /usr/bin/time -f "system %S s" dotnet "$BENCH" "${ARGS[@]}" 2>&1 | grep -E "^full|^system")
  echo "$label: $(echo "$row" | tr '\n' ' ')"
done
