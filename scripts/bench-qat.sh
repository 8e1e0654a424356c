#!/usr/bin/env bash
# Issue 24's QAT benchmark: one resnet20 trained briefly on Fashion-MNIST by ModelOpt, then quantized three ways from
# the same checkpoint with the same calibration: PTQ, PTQ + quantization-aware fine-tuning (distilled from FP32), and
# PTQ + QAT against the labels. Per-tensor weights and the min-max observer by default, a recipe where PTQ loses
# accuracy worth recovering. Prints each run's table; the Qat stage's note gives the validation split before and after.
# Then PyTorch 1.13's own QAT (prepare_qat_fx) on the same checkpoint, calibration sample, validation split, epochs,
# lr and batch size, against the labels (scripts/qat_reference.py; REFERENCE=0 skips it; per-tensor min-max only).
#   scripts/bench-qat.sh [OUT]     Environment: THREADS (2), TEST_SUBSET (10000), QAT_SUBSET (20000), QAT_EPOCHS (1),
#                                  QAT_LR (unset: the job's default qat.learningRate; the reference script is given the same), RECIPE ("--per-channel-weights false --observer minmax"), REFERENCE (1)
set -euo pipefail
cd "$(dirname "$0")/.."
# The job's default learning rate unless QAT_LR names one: ModelOpt's QatOptions is the one place it is set.
qat_lr="${QAT_LR:-$(grep -oP 'double LearningRate \{ get; init; \} = \K[0-9.e-]+' src/ModelOpt.Engine/Quantization/Qat/QatOptions.cs)}"
out="${1:-/tmp/modelopt-qat-bench}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc; uptime
threads="${THREADS:-2}"
recipe="${RECIPE:---per-channel-weights false --observer minmax}"
common=(--model resnet20 --dataset fashion-mnist --threads "$threads" --test-subset "${TEST_SUBSET:-10000}" --compile false --timed-runs 5)
dotnet build -c Release bench/ModelOpt.Bench -v q >/dev/null
bench() { dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- "$@"; }
echo "== train (1 epoch, 20000 images) and PTQ: $recipe"
# shellcheck disable=SC2086
bench "${common[@]}" --epochs 1 --train-subset 20000 --work "$out/ptq" $recipe | grep -v -E '^(Train|EvaluateFp32|Calibrate|Convert) +[0-9]'
for mode in distillation labels; do
  echo "== PTQ + QAT ($mode, ${QAT_EPOCHS:-1} epoch(s), ${QAT_SUBSET:-20000} images, lr $qat_lr) $(uptime | sed 's/.*load/load/')"
  distill=true; [ "$mode" = labels ] && distill=false
  # The labels run writes its validation split (validation-split.json, the split QAT holds out) for the reference.
  split=(); [ "$mode" = labels ] && split=(--sensitivity-images 1000)
  # shellcheck disable=SC2086
  bench "${common[@]}" --checkpoint "$out/ptq/model-fp32.pth" --work "$out/qat-$mode" $recipe "${split[@]}" \
    --qat-epochs "${QAT_EPOCHS:-1}" --qat-subset "${QAT_SUBSET:-20000}" --qat-lr "$qat_lr" --qat-distillation "$distill" \
    | grep -v -E '^(EvaluateFp32|Calibrate|Qat|Convert) +[0-9]'
  python3 -c "import json,sys; d=json.load(open('$out/qat-$mode/qat.json')); print('qat.json:', {k: d[k] for k in ('training_images','epoch_losses','fp32_accuracy','accuracy_before','accuracy_after','validation_images')})"
done
if [ "${REFERENCE:-1}" = 1 ]; then
  echo "== PyTorch 1.13 prepare_qat_fx on the same checkpoint (labels) $(uptime | sed 's/.*load/load/')"
  /usr/bin/python3 scripts/qat_reference.py train --checkpoint "$out/ptq/model-fp32.pth" --work "$out/qat-labels" \
    --epochs "${QAT_EPOCHS:-1}" --lr "$qat_lr" --subset "${QAT_SUBSET:-20000}" --test-subset "${TEST_SUBSET:-10000}" --threads "$threads"
fi
