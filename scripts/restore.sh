#!/usr/bin/env bash
# make restore FILE=backups/carereg-....dump CONFIRM=yes: replace the database named by
# DATABASE_URL with the backup (pg_restore --clean --if-exists, in one transaction: a restore
# that fails half way leaves the database as it was). Everything written since the backup is lost,
# hence CONFIRM=yes.
set -euo pipefail
cd "$(dirname "$0")/.."
file="${1:-${FILE:-}}"
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *) echo "restore: DATABASE_URL must name a PostgreSQL database (postgresql://...)." >&2; exit 2 ;;
esac
[ -n "$file" ] || { echo "restore: name the backup: make restore FILE=backups/carereg-YYYYmmdd-HHMMSS.dump CONFIRM=yes" >&2; exit 2; }
[ -f "$file" ] || { echo "restore: no such file: $file" >&2; exit 2; }
if [ "${CONFIRM:-}" != "yes" ]; then
  echo "restore: this replaces every row of the database with the backup $file." \
    "Everything written since is lost. Run again with CONFIRM=yes." >&2
  exit 3
fi
pg_restore --clean --if-exists --no-owner --no-privileges --single-transaction --exit-on-error \
  --dbname="$DATABASE_URL" "$file"
echo "restored $file"
