# CareReg: `make run` to try it, `make test` to check it. Everything else is a helper.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# `make test MYPY=true` skips the type check (CI runs it in one of its two halves only).
MYPY ?= $(VENV)/bin/mypy
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | sha1sum | cut -c1-12)

.PHONY: run test check lint format browser serve bench backup restore loadtest prod-check clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

## make run: install, migrate, load the demo, print the logins, serve on 127.0.0.1:$(PORT) with a Celery
## worker and beat beside it (the embedded broker: no server needed); Ctrl-C stops all three.
run: export DEBUG ?= true
run: export CAREREG_HTTPS ?= false
run: venv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	PORT=$(PORT) scripts/serve.sh

## make test: the whole suite (lint, migrations check, deploy check, pytest with browser tests).
test: venv browser check
	$(PY) -m pytest $(PYTEST_ARGS)

check: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	DATABASE_URL=sqlite:///:memory: DEBUG=false $(PY) manage.py makemigrations --check --dry-run
	scripts/check_deploy.sh
	$(MYPY)

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## Browser tests drive Debian's chromium (never a downloaded browser).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install chromium"; exit 1; fi; }

bench: venv
	$(PY) scripts/bench_dashboard.py

## make backup: DATABASE_URL (PostgreSQL) to backups/carereg-YYYYmmdd-HHMMSS.dump (pg_dump -Fc).
backup:
	scripts/backup.sh

## make restore FILE=backups/carereg-....dump CONFIRM=yes: replaces DATABASE_URL's data with the backup.
restore:
	CONFIRM="$(CONFIRM)" scripts/restore.sh "$(FILE)"

## make loadtest: 50 locust users on gunicorn over the 10,000-patient bench database (not in CI).
loadtest: venv
	$(PY) -m pip install --quiet -r scripts/loadtest/requirements.txt
	VENV=$(VENV) scripts/loadtest/run.sh

## make prod-check: nginx (TLS) + two gunicorn instances + Celery worker and beat on PostgreSQL and
## Redis, checked through https://127.0.0.1:18443; everything stopped at the end (docs/deployment.md).
prod-check: venv
	VENV=$(VENV) scripts/prod_check.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
