# MANTRA: `make run` and `make test` do the whole set-up on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app mantra
PORT ?= 8000
REDIS_URL ?= redis://127.0.0.1:6379/0
export REDIS_URL
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL
# pytest-xdist processes: each has its own database, Redis server and browser.
# Most tests wait on a worker, a server or Chromium, so two halve the time on two cores.
TEST_PROCESSES ?= 2

.PHONY: help run test setup services browser assets db clean

help:
	@echo "make run   - set up everything and start MANTRA (web + worker) with demo data"
	@echo "make test  - set up everything and run the whole test suite"

$(VENV)/.stamp: requirements.txt requirements-dev.txt
	@test -x $(PY) || python3 -m venv $(VENV) || { echo "Python 3.11 with venv is needed: apt-get install python3-venv"; exit 1; }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

mantra/static/css/mantra.css: package-lock.json mantra/static/scss/mantra.scss
	@command -v npm >/dev/null || { echo "npm is needed to build the pages' styles: apt-get install nodejs npm"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p mantra/static/css mantra/static/govuk
	node_modules/.bin/sass --no-source-map --style=compressed --load-path=node_modules --load-path=. --quiet-deps \
		mantra/static/scss/mantra.scss mantra/static/css/mantra.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js mantra/static/govuk/
	mkdir -p mantra/static/govuk/assets && cp -r node_modules/govuk-frontend/dist/govuk/assets/images mantra/static/govuk/assets/

TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard mantra/translations/*/LC_MESSAGES/messages.po))
%.mo: %.po $(VENV)/.stamp
	$(VENV)/bin/pybabel compile -f -i $< -o $@

assets: mantra/static/css/mantra.css $(TRANSLATIONS)

setup: $(VENV)/.stamp assets services

services:
	@bin/ensure-redis "$(REDIS_URL)"

browser:
	@bin/ensure-chromium

db: setup
	$(FLASK) mantra init
	$(FLASK) db upgrade
	$(FLASK) mantra seed-demo

run: db
	@bin/run-dev $(PORT)

# Two runs at once on one machine both pass: set-up is serialised by a lock,
# and each run has its own PostgreSQL database, Redis server and temp folder.
test:
	@flock .setup.lock $(MAKE) --no-print-directory setup browser
	@bin/ensure-postgres "$(TEST_DATABASE_URL)"
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(VENV)/bin/lint-imports --no-cache --no-logo
	@tmp=$$(mktemp -d /tmp/mantra-test.XXXXXX); \
	  $(VENV)/bin/pytest -q -n $(TEST_PROCESSES) --basetemp="$$tmp" $(PYTEST_ARGS); status=$$?; rm -rf "$$tmp"; exit $$status

clean:
	rm -rf $(VENV) node_modules mantra/static/css mantra/static/govuk
