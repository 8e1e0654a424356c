#!/usr/bin/env bash
# The accuracy-control benchmark of docs/BENCHMARKS.md (issue 10): trains resnet18-cifar and mobilenet_v2-cifar briefly on
# Fashion-MNIST with PyTorch (scripts/bench_accuracy_control.py: PyTorch FP32 and FX int8 on the checkpoint), then runs
# each checkpoint through ModelOpt six ways — plain PTQ, bias correction, cross-layer equalization, the auto observer, a
# 0.3-point budget, and auto with that budget — scored on the same first TEST_IMAGES test images; the budget and auto
# decide on a validation split of TEST_IMAGES training images (ADR-015; before it, on those test images). The cle variant's cross-layer-equalization.json (in its work folder) holds the equalized FP32
# model's accuracy: the cost of its ReLU6 -> ReLU replacement, beside the FP32 row.
#   scripts/bench-accuracy-control.sh OUT_DIR [MODEL ...]      (models: resnet18-cifar mobilenet_v2-cifar)
# SKIP_PYTORCH=1 keeps OUT_DIR's checkpoints and pytorch_results.json from an earlier run (PyTorch's side is not re-measured).
# PARALLEL=1 runs a model's six variants at once (faster on a busy machine; latencies then compete with each other, so
# compare only the ratios inside one run: FP32 / all-int8 / budgeted model are measured in the same process).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-accuracy-bench}"
shift || true
models=("${@:-resnet18-cifar mobilenet_v2-cifar}")
test_images="${TEST_IMAGES:-1000}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc; uptime
for model in ${models[*]}; do
  [ -z "${SKIP_PYTORCH:-}" ] || break
  TEST_IMAGES="$test_images" MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
    /usr/bin/python3 scripts/bench_accuracy_control.py "$out" "$model" 2>&1 | grep -v -i warning
done
dotnet build -c Release bench/ModelOpt.Bench >/dev/null
common=(--test-subset "$test_images" --timed-runs 20 --compile false)
# Only auto and the budget need the validation split (and the per-layer accuracy pass it costs).
validation=(--sensitivity-images "$test_images")
for model in ${models[*]}; do
  for variant in plain bias-correction cle auto budget-0.3 auto-budget-0.3; do
    case "$variant" in
      plain) extra=() ;;
      bias-correction) extra=(--bias-correction true) ;;
      cle) extra=(--cross-layer-equalization true) ;;
      auto) extra=(--observer auto "${validation[@]}") ;;
      budget-0.3) extra=(--max-accuracy-drop 0.3 "${validation[@]}") ;;
      auto-budget-0.3) extra=(--observer auto --max-accuracy-drop 0.3 "${validation[@]}") ;;
    esac
    run() {
      echo "== $model $variant ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
      dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" --checkpoint "$out/$model.pth" \
        "${common[@]}" "${extra[@]}" --work "$out/work-$model-$variant" | grep -v -E '^(EvaluateFp32|Calibrate|Convert) +[0-9]'
      echo "== $model $variant done ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
    }
    if [ -n "${PARALLEL:-}" ]; then run > "$out/$model-$variant.log" 2>&1 & else run; fi
  done
  wait
  [ -z "${PARALLEL:-}" ] || cat "$out/$model"-*.log
done
