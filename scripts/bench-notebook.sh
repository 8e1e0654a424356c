#!/usr/bin/env bash
# The whole-job comparison of docs/BENCHMARKS.md ("A job against the notebook"): PyTorch (scripts/bench_notebook_pytorch.py,
# Debian's python3-torch) and ModelOpt (bench/ModelOpt.Bench) in turn on the same machine, same checkpoint, same thread count:
# a training epoch on the first TRAIN_IMAGES training images, then the job from that checkpoint (FP32 evaluation, PTQ,
# int8 evaluation, compile). Repeated REPEATS times, alternating sides, with the load average before each step.
#   scripts/bench-notebook.sh [MODEL=resnet20] [OUT=/tmp/modelopt-notebook-bench]   (env: THREADS, TRAIN_IMAGES, REPEATS)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-resnet20}"
out="${2:-/tmp/modelopt-notebook-bench}"
threads="${THREADS:-$(nproc)}"
train_images="${TRAIN_IMAGES:-4000}"
repeats="${REPEATS:-2}"
# The glibc allocator setting ModelOpt applies in-process (ADR-001), for PyTorch too (its forward runs on the main
# thread, whose heap the trim threshold covers, so the top pad ModelOpt adds for worker threads is not needed there);
# THREADS for the Python side.
export MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 THREADS="$threads"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo
echo "$(nproc) cores, $threads threads per side, $train_images training images, $repeats runs"
dotnet build -c Release bench/ModelOpt.Bench >/dev/null
modelopt() {
  dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" --threads "$threads" "$@" | tr '\r' '\n'
}
for run in $(seq "$repeats"); do
  echo "== run $run, PyTorch training: $(uptime)"
  /usr/bin/python3 scripts/bench_notebook_pytorch.py train "$model" "$out" "$train_images" 2>&1 | grep -v -i warning
  echo "== run $run, ModelOpt training: $(uptime)"
  modelopt --train-subset "$train_images" --fp32-only true --test-subset 128 --warmup 0 --timed-runs 1 --work "$out/train-$run" \
    | grep -E "epoch times|^Train:"
  echo "== run $run, PyTorch job: $(uptime)"
  /usr/bin/python3 scripts/bench_notebook_pytorch.py job "$model" "$out" 2>&1 | grep -v -i warning
  echo "== run $run, ModelOpt job: $(uptime)"
  modelopt --checkpoint "$out/$model.pth" --work "$out/job-$run" \
    | grep -E "^(EvaluateFp32|Calibrate|Convert|Compile):|^(full|quantized|optimized|  candidate) "
done
echo "== end: $(uptime)"
