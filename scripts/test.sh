#!/usr/bin/env bash
# Runs every test of ModelOpt: engine tests on real Fashion-MNIST and service tests on a real PostgreSQL.
# Installs and starts what the tests need when it is missing (Debian/Ubuntu, as root or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
APT="$SUDO apt-get -o DPkg::Lock::Timeout=300"

missing=()
[ -f /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
[ -d /usr/share/libonnx-testdata/data/node ] || missing+=(libonnx-testdata)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} ..."
  $APT update -qq
  DEBIAN_FRONTEND=noninteractive $APT install -y -qq "${missing[@]}" >/dev/null
fi
$SUDO ./scripts/start-postgres.sh

results="$(mktemp -d)"
status=0
# Built first, so that the two test assemblies then run side by side (the service tests wait on processes and PostgreSQL
# much of the time; run after the engine tests, the whole suite took minutes longer).
dotnet build ModelOpt.sln -c Release -v q
dotnet test ModelOpt.sln -c Release --no-build --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" "$@" || status=$?

# One closing line for every runner: "Tests: N passed, N failed, N skipped".
python3 - "$results" <<'PY'
import glob, html, re, sys
totals = {"total": 0, "executed": 0, "passed": 0, "failed": 0}
for trx in glob.glob(sys.argv[1] + "/*.trx"):
    text = open(trx, encoding="utf-8").read()
    m = re.search(r"<Counters ([^>]*)/>", text)
    for key in totals:
        found = re.search(r'\b' + key + r'="(\d+)"', m.group(1)) if m else None
        totals[key] += int(found.group(1)) if found else 0
    # Failed tests are named again here, beside the closing line, so that the tail of a long log says which.
    for result in re.finditer(r'<UnitTestResult [^>]*testName="([^"]*)"[^>]*outcome="Failed"[^>]*>(.*?)</UnitTestResult>', text, re.S):
        message = re.search(r"<Message>(.*?)</Message>", result.group(2), re.S)
        first = message.group(1).strip().splitlines()[0][:300] if message else ""
        print(html.unescape(f"FAILED {result.group(1)}: {first}"))
# The trx logger counts a skipped test in "total" but not in "executed".
print(f"Tests: {totals['passed']} passed, {totals['failed']} failed, {totals['total'] - totals['executed']} skipped")
PY
exit $status
