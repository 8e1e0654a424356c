#!/usr/bin/env bash
# Issue 27's hostile-input corpus, every case (scripts/make_hostile_corpus.py), against the API started as its own process
# (HostileCorpusTests with MODELOPT_HOSTILE_ALL=1: the embedded default, no worker, the rate limit lifted). For each case
# the test reads the API process's CPU time (utime + stime in /proc/PID/stat) around the request and its peak VmRSS
# (VmHWM, reset through /proc/PID/clear_refs before each case). Writes every case to REPORT and prints the costliest case
# of each kind (most server CPU), the CPU model and the load average.
# Usage: scripts/bench-hostile.sh [REPORT=/tmp/modelopt-hostile-costs.tsv]   (build Release first)
set -euo pipefail
cd "$(dirname "$0")/.."
REPORT="${1:-/tmp/modelopt-hostile-costs.tsv}"
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$REPORT"
status=0
MODELOPT_HOSTILE_ALL=1 MODELOPT_HOSTILE_REPORT="$REPORT" \
  dotnet test tests/ModelOpt.Service.Tests -c Release --no-build --filter "FullyQualifiedName~HostileCorpusTests" --logger "console;verbosity=minimal" \
  || status=$?
[ -f "$REPORT" ] || { echo "no report written: the test stopped before the corpus ran" >&2; exit 1; }
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$REPORT" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
for database in dict.fromkeys(r["database"] for r in rows):
    of_db = [r for r in rows if r["database"] == database]
    print(f"\n{database}: {len(of_db)} cases, baseline VmRSS {of_db[0]['baseline_rss_mb']} MB; the costliest case of each kind (server CPU seconds):")
    print("| Kind | Worst case | Answer | Time (s) | Server CPU (s) | Peak VmRSS (MB) | VmRSS after (MB) |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for kind in dict.fromkeys(r["kind"] for r in of_db):
        of_kind = [r for r in of_db if r["kind"] == kind]
        worst = max(of_kind, key=lambda r: (float(r["cpu_seconds"]), float(r["seconds"])))
        statuses = sorted({r["status"] for r in of_kind})
        print(f"| {kind} ({len(of_kind)} cases, answers {', '.join(statuses)}) | {worst['case']} | {worst['status']} | {worst['seconds']} "
              f"| {worst['cpu_seconds']} | {worst['peak_rss_mb']} | {worst['rss_after_mb']} |")
    print(f"highest peak VmRSS: {max(int(r['peak_rss_mb']) for r in of_db)} MB; slowest answer: {max(float(r['seconds']) for r in of_db):.3f} s")
PY
exit $status
