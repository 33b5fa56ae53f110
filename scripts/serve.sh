#!/usr/bin/env bash
# Serve CareReg for `make run`: the web server, a Celery worker and Celery beat, started together
# and stopped together. Ctrl-C (or TERM) stops all three; if one of them ends, the others are
# stopped too, so the schedule never silently stops running behind a live web server.
#
# With no broker configured the worker and beat use the embedded broker, a SQLite file beside
# the database (docs/deployment.md#the-embedded-default); with CELERY_BROKER_URL, that Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PORT=${PORT:-8000}
# SQLite takes one writer at a time: one worker process is enough beside the web server.
case "${DATABASE_URL:-sqlite:}" in sqlite:*) concurrency=1 ;; *) concurrency=2 ;; esac

# Each part runs in its own process group (job control), so stopping a part stops its children
# too: runserver's autoreloader child, the worker's pool processes.
set -m
pids=()
alive() { # any process left in any part's group
  local pid
  for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done
  return 1
}
signal_all() {
  local pid
  for pid in "${pids[@]}"; do kill "$1" -- "$2$pid" 2>/dev/null || true; done
}
wait_a_while() { # up to $1 tenths of a second, until nothing is left
  for _ in $(seq 1 "$1"); do alive || return 0; sleep 0.1; done
}
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -eq 0 ] && return
  # Each part's main process first: the worker finishes the task in hand and stops its pool
  # itself (a warm shutdown); then whatever is left in the groups (runserver's reloaded child).
  signal_all -TERM ""
  wait_a_while 100
  signal_all -TERM -
  wait_a_while 50
  signal_all -KILL -
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

"$VENV/bin/celery" -A carereg worker --loglevel INFO --concurrency "$concurrency" &
pids+=($!)
"$VENV/bin/celery" -A carereg beat --loglevel INFO &
pids+=($!)
"$VENV/bin/python" manage.py runserver "127.0.0.1:$PORT" &
pids+=($!)

status=0
wait -n || status=$?
echo "serve.sh: a part of CareReg stopped (exit status $status); stopping the others." >&2
exit "$status"
