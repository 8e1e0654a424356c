#!/usr/bin/env bash
# The ONNX benchmark of docs/BENCHMARKS.md: trains a set of architectures briefly on Fashion-MNIST with PyTorch
# (scripts/bench_onnx_models.py: PyTorch FP32 and FX int8 figures), then runs each exported ONNX model through ModelOpt's
# whole pipeline (bench/ModelOpt.Bench) on the same machine, one after the other.
#   scripts/bench-onnx.sh [OUT_DIR] [SET]    SET: cnn (default: the fixture CNNs, torchvision's mobilenet_v2) | modern
#   (issue 22: ConvNeXt-, ViT-, ShuffleNetV2-style). THREADS (default 2) for both sides. Run it under the CPU lock.
# Debian's python3-torch calls the reference (netlib) BLAS for Linear and MatMul, several times slower than an optimized
# one; BLAS=openblas (default) runs PyTorch on Debian's OpenBLAS, unpacked under OUT_DIR (the system is not changed);
# BLAS=reference keeps Debian's default.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-/tmp/modelopt-onnx-bench}"
set_name="${2:-cnn}"
threads="${THREADS:-2}"
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
env "${python_env[@]}" /usr/bin/python3 scripts/bench_onnx_models.py "$out" "$set_name" 2>&1 | grep -v -i warning

results="$out/pytorch_results.json"
[ "$set_name" = cnn ] || results="$out/pytorch_results_$set_name.json"
dotnet build -c Release bench/ModelOpt.Bench >/dev/null
for file in $(/usr/bin/python3 -c 'import json, sys; print(" ".join(f for m in json.load(open(sys.argv[1]))["models"].values() for f in m["onnx"]))' "$results"); do
  model="${file%.onnx}"
  uptime
  dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "onnx:$file" --checkpoint "$out/$file" \
    --timed-runs 20 --threads "$threads" --work "$out/work-$model" | grep -v -E '^(EvaluateFp32|Calibrate|Convert|Compile) +[0-9]'
done
