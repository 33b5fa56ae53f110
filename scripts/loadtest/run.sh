#!/usr/bin/env bash
# make loadtest: gunicorn on loopback over the 10,000-patient bench database (seeded by
# scripts/bench_dashboard.py when missing), 50 locust users for DURATION (90s), then the
# figures: requests per second, p95 latency and errors. Plain HTTP on 127.0.0.1 only
# (CAREREG_HTTPS=false, as for any local run); never part of make test or CI. Keep-alive is
# longer than gunicorn's 2 s default because the users think 1-3 s between clicks, as a proxy
# in front of gunicorn would hold the browser's connection.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The CPU split at the end is only the server's when nothing else runs: say how busy the
# machine was before this script began (a previous run's load lingers in these averages).
echo "load average before the load test: $(cut -d' ' -f1-3 /proc/loadavg)"
VENV=${VENV:-.venv}
PORT=${LOADTEST_PORT:-8765}
USERS=${LOADTEST_USERS_COUNT:-50}
DURATION=${DURATION:-90s}
# The seeded registry is kept as a template; every run works on a fresh copy of it, so the
# contacts one run saves do not make the next run's patient pages longer.
template_url=${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/carereg_bench}
export LOADTEST_DATABASE_URL=${template_url%/*}/carereg_loadtest
out=${LOADTEST_OUT:-${TMPDIR:-/tmp}/carereg-loadtest}
mkdir -p "$out"

export DATABASE_URL=$template_url DEBUG=false CAREREG_HTTPS=false ALLOWED_HOSTS=127.0.0.1
export SECRET_KEY="loadtest-$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
"$VENV/bin/python" -c "import sys; sys.path.insert(0, '.'); from scripts.benchdb import ensure_database as e; e('$DATABASE_URL')"
"$VENV/bin/python" manage.py migrate --noinput -v 0
patients=$("$VENV/bin/python" manage.py shell -c "from patients.models import Patient; print(Patient.objects.count())" 2>/dev/null | tail -1)
# The same registry as scripts/bench_dashboard.py: 10,000 demo patients, seed 2026.
[ "$patients" -ge 10000 ] || "$VENV/bin/python" manage.py seed_demo --patients 10000 --seed 2026
# Fresh planner statistics and no dead rows left by the seed or a migration's backfill: the
# copies start from the same tidy state every time.
"$VENV/bin/python" manage.py shell -c "from django.db import connection; connection.cursor().execute('VACUUM ANALYZE')"
"$VENV/bin/python" - "$template_url" <<'PY'
import sys
import psycopg
base, template = sys.argv[1].rsplit("/", 1)
with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
    admin.execute("DROP DATABASE IF EXISTS carereg_loadtest")
    admin.execute(f'CREATE DATABASE carereg_loadtest TEMPLATE "{template}"')
PY
export DATABASE_URL=$LOADTEST_DATABASE_URL
"$VENV/bin/python" manage.py collectstatic --noinput -v 0
# As deployed: flag refreshes queued on Redis and run by a Celery worker on the same cores
# (its own database index, emptied first). Without Redis the jobs run inside the requests.
export CELERY_BROKER_URL=${LOADTEST_BROKER_URL:-redis://127.0.0.1:6379/14}
worker=""
if "$VENV/bin/python" -c "import redis, sys; redis.Redis.from_url(sys.argv[1]).flushdb()" "$CELERY_BROKER_URL" 2>/dev/null; then
  "$VENV/bin/celery" -A carereg worker --concurrency 1 --loglevel WARNING >>"$out/worker.log" 2>&1 &
  worker=$!
else
  echo "Redis is not reachable: the flag refreshes run inside the requests"
  unset CELERY_BROKER_URL
  export CAREREG_TASKS_IN_PROCESS=true
fi
"$VENV/bin/gunicorn" carereg.wsgi:application --bind "127.0.0.1:$PORT" --workers "${WORKERS:-4}" \
  --threads "${THREADS:-2}" --keep-alive 10 --access-logfile /dev/null --error-logfile "$out/gunicorn.log" >>"$out/gunicorn.log" 2>&1 &
server=$!
trap 'kill $server $worker 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$PORT/login/" && break; sleep 0.2; done

cpu_before=$(head -1 /proc/stat)
# locust's own CPU (user + system seconds), to tell the load generator's share from the server's.
TIMEFORMAT=%U+%S
locust_cpu=$( { time "$VENV/bin/locust" -f scripts/loadtest/locustfile.py --headless -u "$USERS" -r 10 -t "$DURATION" \
  --host "http://127.0.0.1:$PORT" --csv "$out/run" --only-summary >"$out/locust.log" 2>&1; } 2>&1 )
cpu_after=$(head -1 /proc/stat)
tail -30 "$out/locust.log"
"$VENV/bin/python" scripts/loadtest/summary.py "$out/run_stats.csv" "$cpu_before" "$cpu_after" \
  "$(python3 -c "print($locust_cpu)")"
