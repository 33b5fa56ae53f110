#!/usr/bin/env bash
# make backup: the whole PostgreSQL database named by DATABASE_URL, in pg_dump's custom format
# (compressed, restorable table by table with pg_restore), to backups/carereg-YYYYmmdd-HHMMSS.dump
# (BACKUP_DIR to change the folder). Prints the file's path. The URL is never printed: it may
# hold a password.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${DATABASE_URL:-}" in
  postgres://* | postgresql://*) ;;
  *)
    what=$([ -n "${DATABASE_URL:-}" ] && echo "not PostgreSQL" || echo "unset")
    echo "backup: DATABASE_URL must name a PostgreSQL database (postgresql://...); it is $what." \
      "A SQLite database is backed up by copying its file." >&2
    exit 2
    ;;
esac
dir="${BACKUP_DIR:-backups}"
mkdir -p "$dir"
file="$dir/carereg-$(date +%Y%m%d-%H%M%S).dump"
# Written under a temporary name first: a dump cut short never looks like a finished backup.
pg_dump --format=custom --no-owner --no-privileges --file="$file.partial" "$DATABASE_URL"
mv "$file.partial" "$file"
echo "$file"
