#!/usr/bin/env bash
# `make prod-check`: CareReg behind nginx with TLS, two gunicorn instances, a Celery worker and
# beat, on PostgreSQL and Redis (both running already), checked through https://127.0.0.1:18443.
# Installs Debian's nginx when it is missing and we are root (as `make browser` does chromium).
# Ports, database and Redis number: PROD_CHECK_* (scripts/prod_check.py, docs/deployment.md#prod-check).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    # The package would start the host's own nginx on port 80: keep services down while it installs.
    blocker=/usr/sbin/policy-rc.d
    made_blocker=false
    if [ ! -e "$blocker" ]; then printf '#!/bin/sh\nexit 101\n' >"$blocker" && chmod +x "$blocker" && made_blocker=true; fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
    if $made_blocker; then rm -f "$blocker"; fi
  else
    echo "prod-check needs Debian's nginx: sudo apt-get install nginx"
    exit 1
  fi
fi
command -v openssl >/dev/null || { echo "prod-check needs openssl"; exit 1; }

exec "$VENV/bin/python" scripts/prod_check.py
