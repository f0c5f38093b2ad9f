#!/bin/sh
# One-shot: creates the `temporal` and `temporal_visibility` databases on PostgreSQL and brings both
# schemas to the version that this admin-tools image (same release as the server) ships. Every step is
# idempotent (existing databases are kept, applied versions are skipped), so it runs on every
# `docker compose up` and also upgrades the schema after the server and admin-tools tags are raised.
#
# temporal-sql-tool reads its connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

: "${SQL_HOST:?SQL_HOST is required}"
: "${SQL_PORT:=5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

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
  case "$db" in
    temporal) versioned="$SCHEMA_DIR/temporal/versioned" ;;
    *) versioned="$SCHEMA_DIR/visibility/versioned" ;;
  esac
  echo "schema: database $db"
  temporal-sql-tool --db "$db" create
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$versioned"
done
echo "schema: done"
