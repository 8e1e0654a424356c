#!/usr/bin/env bash
# Issue 23's benchmark of docs/BENCHMARKS.md: the segmentation and recognizer fixture nets trained briefly on tasks made
# from Fashion-MNIST (scripts/bench_generic_models.py: PyTorch FP32 and FX int8 task metric, fidelity, latency), then
# each exported ONNX model through ModelOpt's whole pipeline as a generic job on its unlabeled .npz (bench/ModelOpt.Bench),
# and ModelOpt's delivered int8 TorchScript run on the test inputs (`ModelOpt.Bench run-int8`) and scored by the script.
#   scripts/bench-generic.sh [OUT_DIR]    THREADS (default 2) for both sides; BLAS as in scripts/bench-onnx.sh.
# Run the heavy steps under the CPU lock: FLOCK="flock /tmp/modelopt-cpu.lock" wraps each of them.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-generic-bench}"
threads="${THREADS:-2}"
lock=(${FLOCK:-})
mkdir -p "$out"
date -u; grep -m1 "model name" /proc/cpuinfo; grep -o -w -E "avx512_vnni|amx_int8" /proc/cpuinfo | sort -u | tr "\n" " "; echo; nproc; uptime

python_env=(MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 THREADS="$threads")
if [ "${BLAS:-openblas}" = openblas ]; then
  openblas="$out/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread"
  if [ ! -e "$openblas/libblas.so.3" ]; then
    (cd "$out" && apt-get download -q libopenblas0-pthread >/dev/null && dpkg-deb -x libopenblas0-pthread_*.deb openblas)
  fi
  python_env+=(LD_LIBRARY_PATH="$openblas" OPENBLAS_NUM_THREADS="$threads")
fi
if [ "${SKIP_TRAIN:-}" != 1 ]; then
  env "${python_env[@]}" "${lock[@]}" /usr/bin/python3 scripts/bench_generic_models.py train "$out" 2>&1 | grep -v -i -E "warning|_C\._jit_pass"
fi

"${lock[@]}" dotnet build -c Release bench/ModelOpt.Bench >/dev/null
bench=(dotnet run -c Release --no-build --project bench/ModelOpt.Bench --)
# name:class-axis:input shape:preprocessing (class axis none: no arg-max agreement; the mask task's grey images feed 3 channels)
for entry in "segmentation_mask:none:3,32,48:--resize 32,48 --color rgb" "recognizer_sequence:-1:1,32,64:--resize 32,64"; do
  IFS=: read -r model axis shape preprocessing <<<"$entry"
  axis_option=(); [ "$axis" = none ] || axis_option=(--class-axis "$axis")
  uptime
  "${lock[@]}" "${bench[@]}" --model "onnx:$model.onnx" --checkpoint "$out/$model.onnx" --npz "$out/$model.npz" --task generic "${axis_option[@]}" $preprocessing \
    --calibration 256 --calibration-sampling first --timed-runs 20 --threads "$threads" --work "$out/work-$model" \
    | grep -v -E '^(EvaluateFp32|Calibrate|Convert|Compile) +[0-9]'
  "${lock[@]}" "${bench[@]}" run-int8 "$out/work-$model/model-int8.pt" "$out/${model}_test_input.f32" "$out/${model}_modelopt_int8.f32" --shape "$shape" --threads "$threads"
  env "${python_env[@]}" /usr/bin/python3 scripts/bench_generic_models.py score "$out" "$model" "$out/${model}_modelopt_int8.f32"
done
