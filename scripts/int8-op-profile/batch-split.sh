#!/usr/bin/env bash
# Times an int8 TorchScript archive (a model-int8*.pt the compile stage saved) at batch 128 as one forward and as chunks
# of 64, 32 and 16 images run one after the other (issue 28), 2 threads.
#   scripts/int8-op-profile/batch-split.sh ARCHIVE.pt X86|OneDnn [ROUNDS]      (run it under the CPU lock)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dotnet build -c Release -v q "$here" >/dev/null
env MALLOC_MMAP_THRESHOLD_=1073741824 MALLOC_TRIM_THRESHOLD_=1073741824 \
  dotnet run -c Release --no-build --project "$here" -- "$1" "$2" "${3:-10}" --batch-split
