#!/usr/bin/env bash
# `manage.py check --deploy` under production settings: DEBUG off, HTTPS on, a real secret, mail
# sent by SMTP (a check sends none; a console, file or in-memory backend is refused).
#
# The database is SQLite in memory unless DEPLOY_CHECK_DATABASE_URL names one, and not the
# ambient DATABASE_URL: in CI that is a superuser on a throwaway server, which the database-role
# check (audit.W001) rightly calls unfit for production. This script checks the code's settings;
# the role check is proven on PostgreSQL by audit/tests/test_dbroles.py, and is run for real by
# `manage.py check --deploy` in the deployment itself (docs/security.md#database-roles).
set -euo pipefail
cd "$(dirname "$0")/.."
env -u DJANGO_ALLOW_ASYNC_UNSAFE -u DATABASE_OWNER_URL DEBUG=false CAREREG_HTTPS=true \
  SECRET_KEY="deploy-check-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" \
  ALLOWED_HOSTS=carereg.example.org \
  EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend \
  DATABASE_URL="${DEPLOY_CHECK_DATABASE_URL:-sqlite:///:memory:}" \
  "${VENV:-.venv}/bin/python" manage.py check --deploy --fail-level WARNING
