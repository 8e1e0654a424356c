#!/usr/bin/env bash
# How much the calibration sample alone moves int8 accuracy (issue 24, docs/BENCHMARKS.md "Calibration sample spread"):
# one resnet20 checkpoint (a ModelOpt training run on the first TRAIN_IMAGES Fashion-MNIST training images, seed 0), then
# PTQ with the default qconfig (the job's default observer and calibration sample size unless CALIBRATION / OBSERVER name
# others) calibrated with `first` and with `random` and `stratified` under SEEDS seeds, each scored on the same first
# TEST_IMAGES test images, with the Calibrate stage's time. Every run is its own process and work folder.
#   scripts/bench-calibration-seeds.sh [OUT=/tmp/modelopt-calibration-seeds] [MODEL=resnet20]
#   (env: TRAIN_IMAGES, TEST_IMAGES, SEEDS, SAMPLINGS="random stratified", SKIP_FIRST=1 to leave out the `first` run,
#    CALIBRATION=N images, OBSERVER=name, TAG=suffix of the work folders, LOCK)
# OUT's train/model-fp32.pth is reused when present.
# LOCK=/tmp/modelopt-cpu.lock takes that lock around each run (machines shared with other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-calibration-seeds}"
model="${2:-resnet20}"
train_images="${TRAIN_IMAGES:-4000}"
test_images="${TEST_IMAGES:-2000}"
seeds="${SEEDS:-0 1 2 3 4}"
mkdir -p "$out"
grep -m1 "model name" /proc/cpuinfo; nproc
locked() { if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$@"; else "$@"; fi; }
locked dotnet build -c Release bench/ModelOpt.Bench >/dev/null
bench() { locked dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" "$@" | tr '\r' '\n'; }
if [ ! -f "$out/train/model-fp32.pth" ]; then
  bench --train-subset "$train_images" --seed 0 --fp32-only true --test-subset 128 --warmup 0 --timed-runs 1 --work "$out/train" | grep -E "^Train:"
fi
run() {
  local sampling="$1" seed="$2" work="$out/work-$1-$2${TAG:+-$TAG}"
  rm -rf "$work"
  local options=() lines
  [ -z "${CALIBRATION:-}" ] || options+=(--calibration "$CALIBRATION")
  [ -z "${OBSERVER:-}" ] || options+=(--observer "$OBSERVER")
  lines=$(bench --checkpoint "$out/train/model-fp32.pth" --calibration-sampling "$sampling" --calibration-seed "$seed" "${options[@]}" \
    --test-subset "$test_images" --warmup 0 --timed-runs 1 --compile false --work "$work")
  echo "$sampling seed $seed${CALIBRATION:+, $CALIBRATION images}${OBSERVER:+, $OBSERVER}:" \
    "$(echo "$lines" | grep -E "^(full|quantized) " | cut -d"|" -f1-5 | tr '\n' ' ' | tr -s ' ')" "$(echo "$lines" | grep -E "^Calibrate:")"
}
[ -n "${SKIP_FIRST:-}" ] || run first 0
for sampling in ${SAMPLINGS:-random stratified}; do
  for seed in $seeds; do run "$sampling" "$seed"; done
done
