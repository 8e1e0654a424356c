#!/usr/bin/env bash
# Issue 28 item 3: ModelOpt's eager FP32 of an ONNX file against ONNX Runtime FP32, A/B between a base build and this
# tree, alternating base and branch, each run under the CPU lock. Per net and round: the pipeline's FP32 evaluation
# (--fp32-only true: accuracy on 256 test images, 20 timed batches of 128) and `fp32-latency` (eager and ONNX Runtime
# FP32 interleaved in one process, 20 rounds). BASE is a built copy of the base commit with bench/ModelOpt.Bench's
# Fp32LatencyBench.cs and Program.cs copied in (they use only APIs the base has). ONNX_DIR holds the nets
# scripts/bench-int8-limit.sh exports.
# usage: scripts/bench-fp32-eager.sh BASE ONNX_DIR [ROUNDS]
set -euo pipefail
base=$1 onnx=$2 rounds=${3:-2}
lock=/tmp/modelopt-cpu.lock
date -u; grep -m1 "model name" /proc/cpuinfo; nproc; uptime
run() { # tree, args...
  local tree=$1; shift
  (cd "$tree" && flock "$lock" dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- "$@")
}
for round in $(seq 1 "$rounds"); do
  for model in mobilenet_v2_cifar inception_style vgg_style; do
    for side in base branch; do
      tree=$([ "$side" = base ] && echo "$base" || pwd)
      uptime
      run "$tree" --model "onnx:$model.onnx" --checkpoint "$onnx/$model.onnx" --fp32-only true --test-subset 256 --timed-runs 20 --threads 2 \
        | grep torchsharp-fp32-eager | tail -1 | sed "s/^/round $round $model $side pipeline: /"
      run "$tree" fp32-latency "$onnx/$model.onnx" --runs 20 --threads 2 | tail -1 | sed "s/^/round $round $model $side in-process: /"
    done
  done
done
uptime
