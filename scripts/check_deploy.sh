#!/usr/bin/env bash
# `manage.py check --deploy` under production settings: DEBUG off, HTTPS on, a real secret, mail
# sent by SMTP (a check sends none; a console, file or in-memory backend is refused).
set -euo pipefail
cd "$(dirname "$0")/.."
env -u DJANGO_ALLOW_ASYNC_UNSAFE DEBUG=false CAREREG_HTTPS=true \
  SECRET_KEY="deploy-check-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n')" \
  ALLOWED_HOSTS=carereg.example.org \
  EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend \
  DATABASE_URL="${DATABASE_URL:-sqlite:///:memory:}" \
  "${VENV:-.venv}/bin/python" manage.py check --deploy --fail-level WARNING
