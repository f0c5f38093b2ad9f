#!/bin/sh
# One-shot: creates the `temporal` and `temporal_visibility` databases on PostgreSQL and brings both
# schemas to the version that this admin-tools image (same release as the server) ships. Every step is
# idempotent (existing databases are kept, applied versions are skipped), so it runs on every
# `docker compose up` and also upgrades the schema after the server and admin-tools tags are raised.
#
#   setup-schema.sh         the set-up.
#   setup-schema.sh check   the container's health check: both databases answer and their schema_version
#                           row names the newest version under SCHEMA_DIR (what the server expects).
#                           Exit 0 healthy, 1 not (yet).
#
# temporal-sql-tool reads its connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD;
# the check hands the same to psql.
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_PORT:=5432}"
SCHEMA_DIR=${SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}

versioned_dir() {
  case "$1" in
    temporal) echo "$SCHEMA_DIR/temporal/versioned" ;;
    *) echo "$SCHEMA_DIR/visibility/versioned" ;;
  esac
}

# Whether version $1 (major.minor) is older than $2.
older() {
  [ "${1%%.*}" -lt "${2%%.*}" ] || { [ "${1%%.*}" -eq "${2%%.*}" ] && [ "${1#*.}" -lt "${2#*.}" ]; }
}

# The newest version of a versioned schema folder (v1.0, v1.1, …, v1.18).
newest_version() {
  newest=0.0
  for dir in "$1"/v*; do
    [ -d "$dir" ] || continue
    version=${dir##*/v}
    if older "$newest" "$version"; then newest=$version; fi
  done
  echo "$newest"
}

if [ "${1:-}" = check ]; then
  export PGHOST="$SQL_HOST" PGPORT="$SQL_PORT" PGUSER="${SQL_USER:-}" PGPASSWORD="${SQL_PASSWORD:-}"
  export PGCONNECT_TIMEOUT=5
  for db in temporal temporal_visibility; do
    expected=$(newest_version "$(versioned_dir "$db")")
    if [ "$expected" = 0.0 ]; then
      echo "schema: no versioned schema in $(versioned_dir "$db")" >&2
      exit 1
    fi
    current=$(psql -X -q -t -A -d "$db" \
      -c "SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = '$db'") ||
      exit 1
    if [ "$current" != "$expected" ]; then
      echo "schema: $db is at version ${current:-none}, $expected expected" >&2
      exit 1
    fi
  done
  exit 0
fi

attempt=1
until nc -z -w 5 "$SQL_HOST" "$SQL_PORT"; do
  if [ "$attempt" -ge 30 ]; then
    echo "PostgreSQL at $SQL_HOST:$SQL_PORT is not reachable" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

for db in temporal temporal_visibility; do
  echo "schema: database $db"
  temporal-sql-tool --db "$db" create
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$(versioned_dir "$db")"
done
echo "schema: done"
