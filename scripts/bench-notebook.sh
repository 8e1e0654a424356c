#!/usr/bin/env bash
# The whole-job comparison of docs/BENCHMARKS.md ("A job against the notebook"): PyTorch (scripts/bench_notebook_pytorch.py,
# Debian's python3-torch) and ModelOpt in turn on the same machine, same checkpoint, same thread count.
#
# VIA=api (the default; issue 28): the job goes through the API on the embedded default, as scripts/quickstart.sh starts
# it (SQLite + in-process worker, Release build, ModelOpt:Worker:Threads = THREADS). PyTorch trains one epoch on the first
# TRAIN_IMAGES training images once (the checkpoint both sides start from, unless OUT/MODEL.pth exists); then REPEATS
# times, alternating: PyTorch's job, and ModelOpt's job from the uploaded checkpoint (full test set, batch 128, 5 warm-ups +
# 50 timed runs, compile on), followed through GET /api/jobs/{id}. Printed per ModelOpt job: the job's elapsed time as the
# API reports it (started -> finished), the wall time from POST /api/jobs to the terminal status seen by a 0.1 s poll,
# the queue wait (created -> started) and each stage's duration and gap to the next.
# VIA=bench: the earlier protocol, through bench/ModelOpt.Bench (no service), with a ModelOpt training epoch beside PyTorch's.
#
# CPU_LOCK=FILE takes flock FILE around each timed step (never around the service itself, which would inherit the lock).
# API_DLL=PATH (api only) runs that build of the service instead of the Release build's output (a published folder's
# ModelOpt.Api.dll, e.g. ReadyToRun); NO_BUILD=1 skips the build.
# PYTORCH=0 (api only) runs ModelOpt's jobs alone; TIMELINE=1 prints each job's progress messages as the poll saw them.
#   scripts/bench-notebook.sh [MODEL=resnet20] [OUT=/tmp/modelopt-notebook-bench]   (env: VIA, THREADS, TRAIN_IMAGES, REPEATS, PORT, CPU_LOCK, PYTORCH, TIMELINE, API_DLL, NO_BUILD)
set -euo pipefail
cd "$(dirname "$0")/.."
model="${1:-resnet20}"
out="${2:-/tmp/modelopt-notebook-bench}"
via="${VIA:-api}"
threads="${THREADS:-$(nproc)}"
train_images="${TRAIN_IMAGES:-4000}"
repeats="${REPEATS:-2}"
port="${PORT:-5097}"
# The glibc allocator setting ModelOpt applies in-process (ADR-001), for PyTorch too (its forward runs on the main
# thread, whose heap the trim threshold covers, so the top pad ModelOpt adds for worker threads is not needed there);
# THREADS for the Python side.
export MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 THREADS="$threads"
mkdir -p "$out"
locked() { if [ -n "${CPU_LOCK:-}" ]; then flock "$CPU_LOCK" "$@"; else "$@"; fi; }
grep -m1 "model name" /proc/cpuinfo
echo "$(nproc) cores, $threads threads per side, $train_images training images, $repeats runs, via $via"

if [ "$via" = bench ]; then
  locked dotnet build -c Release bench/ModelOpt.Bench >/dev/null
  modelopt() {
    dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" --threads "$threads" "$@" | tr '\r' '\n'
  }
  for run in $(seq "$repeats"); do
    echo "== run $run, PyTorch training: $(uptime)"
    locked /usr/bin/python3 scripts/bench_notebook_pytorch.py train "$model" "$out" "$train_images" 2>&1 | grep -v -i warning
    echo "== run $run, ModelOpt training: $(uptime)"
    locked dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" --threads "$threads" \
      --train-subset "$train_images" --fp32-only true --test-subset 128 --warmup 0 --timed-runs 1 --work "$out/train-$run" \
      | tr '\r' '\n' | grep -E "epoch times|^Train:"
    echo "== run $run, PyTorch job: $(uptime)"
    locked /usr/bin/python3 scripts/bench_notebook_pytorch.py job "$model" "$out" 2>&1 | grep -v -i warning
    echo "== run $run, ModelOpt job: $(uptime)"
    locked dotnet run -c Release --no-build --project bench/ModelOpt.Bench -- --model "$model" --threads "$threads" \
      --checkpoint "$out/$model.pth" --work "$out/job-$run" \
      | tr '\r' '\n' | grep -E "^(EvaluateFp32|Calibrate|Convert|Compile):|^(full|quantized|optimized|  candidate) "
  done
  echo "== end: $(uptime)"
  exit 0
fi

[ "$via" = api ] || { echo "VIA must be api or bench" >&2; exit 2; }
if [ ! -f "$out/$model.pth" ]; then
  echo "== PyTorch training (the checkpoint): $(uptime)"
  locked /usr/bin/python3 scripts/bench_notebook_pytorch.py train "$model" "$out" "$train_images" 2>&1 | grep -v -i warning
fi
[ "${NO_BUILD:-0}" = 1 ] || locked dotnet build src/ModelOpt.Api -c Release -nologo -v quiet >/dev/null
data_root="$out/service"
rm -rf "$data_root"
mkdir -p "$data_root"
base="http://127.0.0.1:$port"
# The start-up is timed under the lock too, held by a helper process while the service starts: the service itself must
# not inherit the lock (it would hold it for its whole life). The helper lets go when told, or after 300 s.
release="$data_root/start-up-timed"
trap 'touch "$release"' EXIT
if [ -n "${CPU_LOCK:-}" ]; then
  flock "$CPU_LOCK" sh -c 'touch "$1.held"; for _ in $(seq 6000); do [ -e "$1" ] && exit 0; sleep 0.05; done' _ "$release" &
  while [ ! -e "$release.held" ]; do sleep 0.05; done
fi
echo "== service start: $(uptime)"
launched=$(date +%s.%N)
ModelOpt__Storage__DataRoot="$data_root" ModelOpt__Worker__Threads="$threads" \
  dotnet "${API_DLL:-src/ModelOpt.Api/bin/Release/net10.0/linux-x64/ModelOpt.Api.dll}" --urls "$base" >"$data_root/api.log" 2>&1 &
api_pid=$!
trap 'touch "$release"; kill "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 1200); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  kill -0 "$api_pid" 2>/dev/null || { echo "The service exited; see $data_root/api.log" >&2; exit 1; }
  sleep 0.1
done
# Start-up as quickstart.sh waits for it (launch -> /health answers 200, polled every 0.1 s), and the service's memory
# then and after each job (resident now / peak, from /proc).
ready=$(date +%s.%N)
touch "$release"
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %.0f MiB  ", $1, $2 / 1024}' "/proc/$api_pid/status"; }
echo "== service ready in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$launched" "$ready") s (launch -> /health 200); $(rss)"
checkpoint=$(curl -fs -F "file=@$out/$model.pth" -F "model=$model" "$base/api/checkpoints" \
  | python3 -c "import json,sys; print(json.load(sys.stdin)['id'])")
request="{\"model\":\"$model\",\"dataset\":\"fashion-mnist\",\"device\":\"cpu\",\"checkpointId\":\"$checkpoint\",
 \"evaluation\":{\"testSubset\":null,\"latencyBatchSize\":128,\"warmupRuns\":5,\"timedRuns\":50}}"

for run in $(seq "$repeats"); do
  if [ "${PYTORCH:-1}" = 1 ]; then
    echo "== run $run, PyTorch job: $(uptime)"
    locked /usr/bin/python3 scripts/bench_notebook_pytorch.py job "$model" "$out" 2>&1 | grep -v -i warning
  fi
  echo "== run $run, ModelOpt job through the API: $(uptime)"
  locked python3 scripts/bench_notebook_api.py "$base" "$request" "$out/$model-api-$run.json"
  echo "   service memory after job $run: $(rss)"
done
echo "== end: $(uptime)"
