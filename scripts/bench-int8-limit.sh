#!/usr/bin/env bash
# Issue 28's benchmark: int8 against this CPU's int8 compute limit on a depthwise (MobileNetV2, CIFAR stem), a branchy
# (Inception-style: cat, ReLU6, pooling) and a plain (VGG-style) net, batch 128, THREADS (default 2) threads everywhere.
# PyTorch trains the nets and times FP32 eager and FX int8 (onednn) eager and scripted (scripts/bench_int8_limit.py
# train); then ModelOpt runs each exported ONNX model through its whole pipeline (bench/ModelOpt.Bench, compile on: every
# form it times, ONNX Runtime FP32 among them, and the one it delivers); then PyTorch's best int8 form and ModelOpt's
# delivered one timed in turn, seconds apart (bench_int8_limit.py paired); then the tables (bench_int8_limit.py summarize).
#   scripts/bench-int8-limit.sh [OUT_DIR]     TRAIN_IMAGES / EPOCHS shorten the training; TEST_IMAGES the scoring.
# The int8 limit is measured first (scripts/int8-peak/vnni_peak.c: vpdpbusd at full throughput on THREADS threads; needs
# gcc and AVX-512 VNNI, otherwise the summary falls back to 64 MAC/cycle/core at the clock /proc/cpuinfo reports).
# Run it under the CPU lock. The two sides run one after the other: the load and the read bandwidth are printed before each.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-int8-limit}"
threads="${THREADS:-2}"
test_images="${TEST_IMAGES:-10000}"
mkdir -p "$out"
date -u; grep -m1 "model name" /proc/cpuinfo; grep -o -w -E "avx512_vnni|avx512_bf16|amx_int8" /proc/cpuinfo | sort -u | tr "\n" " "; echo; nproc; uptime

# The machine's state before each step: load, and read bandwidth from the L3 cache (8 MiB a thread) and from memory (64 MiB
# a thread) in GB/s (scripts/int8-peak/read_bandwidth.c): latencies moved between minutes on a shared VM while the
# compute limit did not (docs/BENCHMARKS.md, issue 28).
state() {
  if [ -x "$out/read_bandwidth" ]; then
    echo "$(uptime); read GB/s: L3 $("$out/read_bandwidth" "$threads" 8 400), memory $("$out/read_bandwidth" "$threads" 64 40)"
  else
    uptime
  fi
}
if command -v gcc >/dev/null && grep -q -w avx512f /proc/cpuinfo; then
  gcc -O2 -mavx512f -pthread scripts/int8-peak/read_bandwidth.c -o "$out/read_bandwidth"
fi
if command -v gcc >/dev/null && grep -q -w avx512_vnni /proc/cpuinfo; then
  gcc -O2 -mavx512f -mavx512vnni -pthread scripts/int8-peak/vnni_peak.c -o "$out/vnni_peak"
  "$out/vnni_peak" "$threads" > "$out/int8_peak_gmacs.txt"
  echo "measured int8 peak: $(cat "$out/int8_peak_gmacs.txt") GMAC/s on $threads threads"
  if grep -q -w amx_int8 /proc/cpuinfo; then
    echo "this CPU has AMX: its int8 limit is higher than this AVX-512 VNNI peak; report its shares as a separate table"
  fi
else
  rm -f "$out/int8_peak_gmacs.txt"; echo "int8 peak not measured (needs gcc and avx512_vnni)"
fi

# The glibc allocator setting ModelOpt applies in-process (../shared/notes/PROBES.md), for every PyTorch process and the probe.
allocator=(MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824)
env "${allocator[@]}" THREADS="$threads" TEST_IMAGES="$test_images" \
  /usr/bin/python3 scripts/bench_int8_limit.py train "$out" 2>&1 | grep -v -i warning

dotnet build -c Release bench/ModelOpt.Bench >/dev/null
for model in mobilenet_v2_cifar inception_style vgg_style; do
  state
  dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "onnx:$model.onnx" --checkpoint "$out/$model.onnx" \
    --timed-runs 20 --test-subset "$test_images" --threads "$threads" --work "$out/work-$model" \
    | grep -v -E '^(EvaluateFp32|Calibrate|Convert|Compile) +[0-9]' | tee "$out/modelopt-$model.txt"
done
state
# Paired: PyTorch's best int8 form and ModelOpt's delivered archive timed in turn, seconds apart (PAIRS, default 5).
dotnet build -c Release -v q scripts/int8-op-profile >/dev/null
env "${allocator[@]}" PAIRS="${PAIRS:-5}" \
  /usr/bin/python3 scripts/bench_int8_limit.py paired "$out" 2>&1 | grep -v -i warning
state
THREADS="$threads" /usr/bin/python3 scripts/bench_int8_limit.py summarize "$out"
