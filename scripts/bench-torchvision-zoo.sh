#!/usr/bin/env bash
# Issue 22's benchmark: torchvision 0.14's classification architectures at FULL size (scripts/bench_torchvision_zoo.py:
# random weights, 10 classes, opset 13, dynamic batch, 224 x 224, inception_v3 299 x 299), each through ModelOpt:
#   1. import + FP32 equality with ONNX Runtime on the same file (ModelOpt.Bench onnx-equality: 2 seeded images);
#   2. the job's stages on the synthetic dataset resized to the model's input (EvaluateFp32, Calibrate, Convert; no
#      Compile unless COMPILE=true): FP32 and int8 latency at batch 8 on the same thread count, and each form's accuracy on the synthetic
#      test subset (random weights: not a quality figure; FP32 and int8 being close is the signal).
# Prints one table. The ONNX files and work folders go to OUT (default /tmp/modelopt-zoo-bench), nothing is committed.
#   scripts/bench-torchvision-zoo.sh [OUT] [NAME ...]        e.g. scripts/bench-torchvision-zoo.sh /tmp/zoo resnet18 squeezenet1_1
# Environment: THREADS (2), TEST_SUBSET (64), CALIBRATION (32), LATENCY_BATCH (8), WARMUP (2), TIMED (5), COMPILE (false:
# true also times the compile stage's forms, ONNX Runtime FP32 among them, and prints their rows after the table).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-zoo-bench}"
shift || true
threads="${THREADS:-2}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc; uptime
echo "threads $threads, test subset ${TEST_SUBSET:-64}, calibration ${CALIBRATION:-32}, latency batch ${LATENCY_BATCH:-8}, warm-up ${WARMUP:-2}, timed ${TIMED:-5}"
/usr/bin/python3 scripts/bench_torchvision_zoo.py "$out" "$@" 2>/dev/null > "$out/exports.tsv"
dotnet build -c Release bench/ModelOpt.Bench -v q >/dev/null
bench() { dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- "$@"; }

table="$out/table.md"
echo "| Model | ONNX MB | Input | Import / FP32 vs ORT (rel. err.) | FP32 ms | int8 ms | Speed-up | int8 MB | Acc. FP32 / int8 (synthetic) | Stage times (s) |" > "$table"
echo "|---|---:|---:|---|---:|---:|---:|---:|---|---|" >> "$table"
while IFS=$'\t' read -r name path side megabytes status; do
  if [ "$path" = "-" ]; then
    echo "| $name | - | $side | $status | | | | | | |" >> "$table"; continue
  fi
  echo "== $name ($megabytes MB, ${side}x${side}) $(uptime | sed 's/.*load/load/')"
  if ! check=$(bench onnx-equality "$path"); then
    echo "$check"
    reason=$(sed -E 's/^(refused: [^(]*\([^)]*\)).*/\1/' <<< "$check")  # the op list, without every node
    echo "| $name | $megabytes | $side | ${reason//|//} | | | | | | |" >> "$table"; continue
  fi
  echo "$check"
  error=$(sed -E 's/.*relative error ([^ ]+).*/\1/' <<< "$check")
  log="$out/$name.log"
  if ! bench --model "onnx:$name.onnx" --checkpoint "$path" --dataset synthetic --resize "$side,$side" --compile "${COMPILE:-false}" \
      --threads "$threads" --test-subset "${TEST_SUBSET:-64}" --calibration "${CALIBRATION:-32}" \
      --latency-batch "${LATENCY_BATCH:-8}" --warmup "${WARMUP:-2}" --timed-runs "${TIMED:-5}" --work "$out/work-$name" 2>&1 | tr -d '\r' > "$log"; then
    tail -3 "$log"
    echo "| $name | $megabytes | $side | imported, $error | job failed: $(tail -1 "$log" | tr '|' '/') | | | | | |" >> "$table"; continue
  fi
  grep -E '^(Model form|full|quantized)' "$log"
  # NotebookTable columns: form | backend | size MB | accuracy | Δ | images | latency mean ± std | batch | images/s | speed-up | note
  row() { grep -E "^$1 " "$log" | head -1 | awk -F'|' -v c="$2" '{ gsub(/^ +| +$/, "", $c); print $c }'; }
  stages=$(grep -E '^(EvaluateFp32|Calibrate|Convert): ' "$log" | sed -E 's/: ([0-9.]+) s/ \1/' | tr '\n' ' ')
  echo "| $name | $megabytes | $side | imported, $error | $(row full 7) | $(row quantized 7) | $(row quantized 10) | $(row quantized 3) | $(row full 4) / $(row quantized 4) | $stages |" >> "$table"
done < "$out/exports.tsv"
echo
cat "$table"
if [ "${COMPILE:-false}" = "true" ]; then
  for log in "$out"/*.log; do echo "== $(basename "$log" .log)"; grep -E "^(optimized|  candidate) " "$log" || true; done
fi
