#!/usr/bin/env bash
# Service load with wrk against PostgreSQL: the Release API (no embedded worker: jobs only queue), one write key made
# with the API's CLI verb, the rate limit lifted (the API is measured, not its limiter), Serilog request logging on.
#   1. POST /api/jobs with ab: REQUESTS requests (every one completes, so counts are exact), 50 concurrent; then the
#      jobs rows and their Hangfire jobs are counted against the 202 answers (lost or duplicated jobs) once the dispatch
#      relay has handed every job to Hangfire, and
#      PostgreSQL's transactions per POST (xact_commit, read-only ones included) are read from pg_stat_database;
#   2. GET /api/jobs/{id} of one of those jobs with wrk, 50 connections, DURATION seconds.
# CPU time per request of the API process and of PostgreSQL (all its processes) is read from /proc around each run: on
# a shared machine throughput and latency move with the neighbours' load, CPU per request much less.
# Prints the CPU model and the load average. Usage: scripts/bench-load.sh [REQUESTS=5000] [DURATION=20] [CONNECTIONS=50]
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${1:-5000}"
DURATION="${2:-20}"
CONNECTIONS="${3:-50}"
PORT=5096
command -v wrk >/dev/null && command -v ab >/dev/null || { echo "wrk or ab is missing: apt-get install -y wrk apache2-utils" >&2; exit 1; }
BASE="$(./scripts/start-postgres.sh | tail -1)"
DB="modelopt_load_$(date +%s)"
psql_admin() { psql "postgresql://modelopt:modelopt@127.0.0.1/modelopt" -v ON_ERROR_STOP=1 -qtA "$@"; }
psql_db() { psql "postgresql://modelopt:modelopt@127.0.0.1/$DB" -v ON_ERROR_STOP=1 -qtA "$@"; }
psql_admin -c "CREATE DATABASE \"$DB\""
DATA="$(mktemp -d)"
API=src/ModelOpt.Api/bin/Release/net10.0/linux-x64/ModelOpt.Api.dll
[ -f "$API" ] || dotnet build src/ModelOpt.Api -c Release >/dev/null
export ModelOpt__Storage__Provider=Postgres ModelOpt__Storage__DataRoot="$DATA" ModelOpt__Worker__Embedded=false
export ModelOpt__ConnectionStrings__Postgres="${BASE/Database=modelopt/Database=$DB}"
export ModelOpt__RateLimit__PermitsPerSecond=1000000 ModelOpt__RateLimit__Burst=1000000 ASPNETCORE_ENVIRONMENT=Production
MODELOPT_KEY="$(cd "$DATA" && dotnet "$OLDPWD/$API" keys create --scope write --name load | tail -1)"
export MODELOPT_KEY
(cd "$DATA" && exec dotnet "$OLDPWD/$API" --urls "http://127.0.0.1:$PORT" > "$DATA/api.log" 2>&1) &
API_PID=$!
cleanup() { kill "$API_PID" 2>/dev/null || true; wait "$API_PID" 2>/dev/null || true; psql_admin -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" || true; rm -rf "$DATA"; }
trap cleanup EXIT
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done

TICK=$(getconf CLK_TCK)
# utime + stime, in clock ticks, of the API process and of every postgres process.
cpu_api() { awk '{print $14 + $15}' "/proc/$API_PID/stat"; }
cpu_pg() { local t=0; for p in $(pgrep -u postgres); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo $t; }
per_request() { awk -v t="$1" -v n="$2" -v k="$TICK" 'BEGIN {printf "%.2f", t * 1000 / k / n}'; }
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
BODY="$DATA/job.json"
echo '{"model":"resnet18-cifar","dataset":"fashion-mnist"}' > "$BODY"
post() { ab -q -n "$1" -c "$CONNECTIONS" -p "$BODY" -T application/json -H "Authorization: Bearer $MODELOPT_KEY" "http://127.0.0.1:$PORT/api/jobs"; }
# Warm-up (JIT, connection pools), not counted: its jobs are subtracted below.
post 500 >/dev/null
WARM="$(psql_db -c 'SELECT count(*) FROM jobs')"
COMMITS_BEFORE="$(psql_db -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'")"
echo "== POST /api/jobs: $REQUESTS requests, $CONNECTIONS concurrent (ab) =="
API0=$(cpu_api); PG0=$(cpu_pg)
POST_OUT="$(post "$REQUESTS")"
APIM=$(cpu_api); PGM=$(cpu_pg)
# The relay hands the accepted jobs to Hangfire after the answers: wait until every one is dispatched.
DRAIN_START=$(date +%s.%N)
for _ in $(seq 1 600); do [ "$(psql_db -c 'SELECT count(*) FROM jobs WHERE "DispatchPending"')" = 0 ] && break; sleep 0.2; done
DRAIN=$(awk -v a="$DRAIN_START" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
API1=$(cpu_api); PG1=$(cpu_pg)
echo "$POST_OUT" | grep -E 'Complete requests|Failed requests|Non-2xx|Requests per second|Time per request.*mean\)|^  (50|90|99|100)%'
sleep 2 # pg_stat_database is updated asynchronously
COMMITS_AFTER="$(psql_db -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$DB'")"
NON2XX="$(echo "$POST_OUT" | awk '/Non-2xx/ {print $3}')"
ROWS=$(( $(psql_db -c 'SELECT count(*) FROM jobs') - WARM ))
HANGFIRE="$(psql_db -c 'SELECT count(DISTINCT "HangfireJobId") FROM jobs WHERE "HangfireJobId" IS NOT NULL')"
TOTAL="$(psql_db -c 'SELECT count(*) FROM jobs')"
echo "202 answers: $((REQUESTS - ${NON2XX:-0})); new jobs rows: $ROWS; rows with their own Hangfire job: $HANGFIRE of $TOTAL; all dispatched ${DRAIN} s after the last answer"
echo "PostgreSQL transactions per POST (xact_commit): $(awk -v c=$((COMMITS_AFTER - COMMITS_BEFORE)) -v n="$REQUESTS" 'BEGIN {printf "%.2f", c / n}')"
echo "CPU per POST until the last answer: API $(per_request $((APIM - API0)) "$REQUESTS") ms, PostgreSQL $(per_request $((PGM - PG0)) "$REQUESTS") ms"
echo "CPU per POST, dispatch included: API $(per_request $((API1 - API0)) "$REQUESTS") ms, PostgreSQL $(per_request $((PG1 - PG0)) "$REQUESTS") ms"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"

export MODELOPT_JOB="$(psql_db -c 'SELECT "Id" FROM jobs LIMIT 1')"
echo "== GET /api/jobs/{id}: $CONNECTIONS connections, ${DURATION} s =="
API0=$(cpu_api); PG0=$(cpu_pg)
GET_OUT="$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s bench/load/get-job.lua "http://127.0.0.1:$PORT")"
API1=$(cpu_api); PG1=$(cpu_pg)
echo "$GET_OUT"
GETS="$(echo "$GET_OUT" | awk '/requests in/ {print $1}')"
echo "CPU per GET: API $(per_request $((API1 - API0)) "$GETS") ms, PostgreSQL $(per_request $((PG1 - PG0)) "$GETS") ms"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg)"
