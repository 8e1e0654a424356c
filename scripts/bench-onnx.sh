#!/usr/bin/env bash
# The ONNX benchmark of docs/BENCHMARKS.md: trains the four fixture architectures and torchvision's mobilenet_v2
# briefly on Fashion-MNIST with PyTorch (scripts/bench_onnx_models.py: PyTorch FP32 and FX int8 figures), then runs
# each exported ONNX model through ModelOpt's whole pipeline (bench/ModelOpt.Bench) on the same machine, one after the other.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-onnx-bench}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc; uptime
MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 /usr/bin/python3 scripts/bench_onnx_models.py "$out" 2>&1 | grep -v -i warning
dotnet build -c Release bench/ModelOpt.Bench >/dev/null
for model in mobilenet_v2_like vgg_like inception_like squeeze_excite torchvision_mobilenet_v2; do
  uptime
  dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "onnx:$model.onnx" --checkpoint "$out/$model.onnx" \
    --timed-runs 20 --work "$out/work-$model" | grep -v -E '^(EvaluateFp32|Calibrate|Convert|Compile) +[0-9]'
done
