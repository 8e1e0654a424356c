#!/usr/bin/env bash
# Where an int8 TorchScript form's time goes, line by line (issue 28): rewrites ARCHIVE (a model-int8*.pt the compile
# stage saved in its work folder) with opsplit.py and times each line of its forward at batch 128, 2 threads.
#   scripts/int8-op-profile/run.sh ARCHIVE.pt X86|OneDnn [ROUNDS]      (run it under the CPU lock)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$here/opsplit.py" "$1" "$work/split.pt"
dotnet build -c Release -v q "$here" >/dev/null
env MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
  dotnet run -c Release --no-build --project "$here" -- "$work/split.pt" "$2" "${3:-10}"
