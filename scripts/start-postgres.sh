#!/usr/bin/env bash
# Starts a local PostgreSQL for the service tests and prints its connection string (last line of stdout).
# Idempotent: installs PostgreSQL if missing, starts the cluster if stopped, creates role and database if absent.
# Usage: scripts/start-postgres.sh            (role/password/database: modelopt/modelopt/modelopt)
#        export ModelOpt__ConnectionStrings__Postgres="$(scripts/start-postgres.sh | tail -1)"
set -euo pipefail

ROLE="${MODELOPT_PG_ROLE:-modelopt}"
PASSWORD="${MODELOPT_PG_PASSWORD:-modelopt}"
DATABASE="${MODELOPT_PG_DATABASE:-modelopt}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "Installing PostgreSQL..." >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq postgresql >&2
fi

# The newest installed cluster (Debian 12: 15/main).
read -r VERSION CLUSTER _ STATUS _ < <(pg_lsclusters --no-header | sort -k1,1 -V | tail -1)
if [ -z "${VERSION:-}" ]; then
  echo "No PostgreSQL cluster found (pg_lsclusters is empty)." >&2
  exit 1
fi
if [ "$STATUS" != "online" ]; then
  # The server outlives this script: it must not inherit its caller's open files (under `flock LOCK ./scripts/test.sh`
  # it held the lock for as long as it ran). sudo closes them itself.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd="${fd##*/}"
      if [ "$fd" -gt 2 ] && [ "$fd" -ne 255 ]; then eval "exec $fd>&-"; fi
    done
    exec $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start
  ) >&2
fi
for _ in $(seq 1 60); do
  pg_isready -h 127.0.0.1 -q && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 >&2

psql_admin() { $SUDO runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != "1" ]; then
  # CREATEDB: each test class creates and drops its own database.
  psql_admin -c "CREATE ROLE \"$ROLE\" LOGIN CREATEDB PASSWORD '$PASSWORD'" >&2
fi
# DROP DATABASE ... WITH (FORCE) on a test database must also end an autovacuum worker that is visiting it, which
# PostgreSQL 15 allows only to members of pg_signal_backend.
psql_admin -c "GRANT pg_signal_backend TO \"$ROLE\"" >&2
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" != "1" ]; then
  psql_admin -c "CREATE DATABASE \"$DATABASE\" OWNER \"$ROLE\"" >&2
fi

echo "Host=127.0.0.1;Username=$ROLE;Password=$PASSWORD;Database=$DATABASE"
