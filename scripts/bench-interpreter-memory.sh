#!/usr/bin/env bash
# Peak resident memory of one interpreter pass (resnet18-cifar, batch 128): GraphInterpreter and
# FakeQuantizedGraphInterpreter, each in its own process, three times. Give one or more source trees to compare them in one
# run, e.g. a checkout of an older commit and this one: scripts/bench-interpreter-memory.sh /tmp/before .
set -euo pipefail
cd "$(dirname "$0")/.."
roots=("$@")
[ ${#roots[@]} -eq 0 ] && roots=(.)
for root in "${roots[@]}"; do
  dotnet build "$root/bench/ModelOpt.Bench" -c Release -nologo -v quiet >/dev/null
done
for root in "${roots[@]}"; do
  bench="$root/bench/ModelOpt.Bench/bin/Release/net10.0/linux-x64/ModelOpt.Bench.dll"
  for interpreter in fp32 fake-quant; do
    for run in 1 2 3; do
      echo "$root: $(dotnet "$bench" interpreter-memory "$interpreter")"
    done
  done
done
