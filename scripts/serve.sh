#!/usr/bin/env bash
# Serve CareReg for `make run`. With a broker configured, a Celery worker and beat run beside
# the web server and stop with it; without one, tasks run in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
pids=()
stop() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true; }
trap stop EXIT INT TERM
if [ -n "${CELERY_BROKER_URL:-${REDIS_URL:-}}" ]; then
  "$VENV/bin/celery" -A carereg worker --loglevel INFO --concurrency 2 &
  pids+=($!)
  # The schedule lives in code (carereg/celery.py); beat's state file stays out of the tree.
  "$VENV/bin/celery" -A carereg beat --loglevel INFO --schedule "${TMPDIR:-/tmp}/carereg-celerybeat-schedule" &
  pids+=($!)
fi
"$VENV/bin/python" manage.py runserver "127.0.0.1:${PORT:-8000}"
