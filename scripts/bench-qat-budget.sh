#!/usr/bin/env bash
# Issue 24's budget case (docs/BENCHMARKS.md): an Inception-style CNN trained by Debian's PyTorch 1.13
# (scripts/bench_onnx_models.py, set `budget`: 2 epochs on 20 000 Fashion-MNIST images, exported to ONNX; PyTorch FX int8
# measured beside it), then quantized by ModelOpt four ways from that file, every accuracy on the WHOLE test set
# (TEST_SUBSET, 10 000): plain PTQ; maxAccuracyDrop 0.3 (layers kept FP32 by the budget's search on a 1 000-image
# validation split of the training images); the same budget with qat.auto (QAT only when the budget is missed all-int8,
# then the search on the fine-tuned model). Each run's converted row gives the drop on the validation split and on the
# test set; the note names the layers kept FP32 (the "all int8" row, when there is one, is the fine-tuned all-int8 model).
#   scripts/bench-qat-budget.sh [OUT]     Environment: THREADS (2), TEST_SUBSET (10000), QAT_EPOCHS (1), QAT_SUBSET
#                                         (20000), QAT_LR (unset: the job's default qat.learningRate), SKIP_PYTORCH (keep OUT's ONNX file), LOCK (a flock file
#                                         each step runs under, e.g. /tmp/modelopt-cpu.lock on a shared machine),
#                                         VARIANTS ("ptq budget-0.3 budget-0.3-qat-auto"), TAG (appended to work folders)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-qat-budget-bench}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc; uptime
threads="${THREADS:-2}"
locked() { if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$@"; else "$@"; fi; }
if [ -z "${SKIP_PYTORCH:-}" ]; then
  echo "== PyTorch: train inception_like, FX int8 ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  THREADS="$threads" TEST_IMAGES="${TEST_SUBSET:-10000}" MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
    locked /usr/bin/python3 scripts/bench_onnx_models.py "$out" budget 2>&1 | grep -v -i warning
fi
locked dotnet build -c Release bench/ModelOpt.Bench -v q >/dev/null
common=(--model onnx:inception_like.onnx --checkpoint "$out/inception_like.onnx" --dataset fashion-mnist --threads "$threads"
  --test-subset "${TEST_SUBSET:-10000}" --compile false --timed-runs 10)
budget=(--max-accuracy-drop 0.3 --sensitivity-images 1000)
qat=(--qat-epochs "${QAT_EPOCHS:-1}" --qat-subset "${QAT_SUBSET:-20000}" ${QAT_LR:+--qat-lr "$QAT_LR"})
for variant in ${VARIANTS:-ptq budget-0.3 budget-0.3-qat-auto}; do
  case "$variant" in
    ptq) extra=() ;;
    budget-0.3) extra=("${budget[@]}") ;;
    budget-0.3-qat-auto) extra=("${budget[@]}" "${qat[@]}" --qat-auto true) ;;
  esac
  work="$out/work-$variant${TAG:+-$TAG}"
  echo "== $variant ${TAG:-} ($(date -u +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
  start=$(date +%s)
  locked dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- "${common[@]}" "${extra[@]}" --work "$work" \
    | grep -v -E '^(EvaluateFp32|Calibrate|Qat|Convert) +[0-9]'
  echo "== $variant done in $(( $(date +%s) - start )) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ -f "$work/qat.json" ]; then
    python3 -c "import json; d=json.load(open('$work/qat.json')); print('qat.json:', {k: d[k] for k in ('learning_rate','fine_tuned','automatic','training_images','fp32_accuracy','accuracy_before','accuracy_after','validation_images')})"
  fi
  if [ -f "$work/accuracy-budget.json" ]; then
    python3 -c "import json; d=json.load(open('$work/accuracy-budget.json')); print('accuracy-budget.json:', {k: d[k] for k in ('fp32_accuracy','int8_accuracy','accuracy','float_layers','within_budget')})"
  fi
done
