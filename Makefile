# Two commands: `make run` (set up, migrate, demo data, serve) and `make test` (set up, whole suite).
# Only python3 (>= 3.11) and make are needed; everything else goes into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint migrate demo ci clean worker beat bench-scoped-reads bench-points-ledger bench-close-quarter field bench-field-app

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

run: demo field
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite in 4 processes (pytest-xdist); PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 4
test: setup field
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The field app (issue 11): frontend/field, built by Vite into frontend/field/dist, which Django
# serves at /m/. `npm ci` when node_modules is missing or older than the lock file, `npm run
# build` when a source is newer than the last build. Skipped, saying so, with no npm or before
# the app's package.json exists (then /m/ answers "not built" and the browser tests skip).
FIELD := frontend/field
NPM := $(shell command -v npm 2>/dev/null)
# npm writes node_modules/.package-lock.json on every install: older than the lock file, or
# missing, means the dependencies must be installed again.
FIELD_DEPS := $(FIELD)/node_modules/.package-lock.json
FIELD_STAMP := $(FIELD)/dist/.built
FIELD_SOURCES := $(shell find $(FIELD)/src $(FIELD)/public -type f 2>/dev/null) \
	$(wildcard $(FIELD)/index.html $(FIELD)/vite.config.* $(FIELD)/package.json)

field:
ifeq ($(NPM),)
	@echo "== field app: SKIPPED, npm not found (install Node.js >= 20 and npm; /m/ says not built, browser tests skip)"
else ifeq ($(wildcard $(FIELD)/package.json),)
	@echo "== field app: SKIPPED, $(FIELD)/package.json is not there"
else
	@$(MAKE) --no-print-directory $(FIELD_STAMP)
endif

$(FIELD_DEPS): $(or $(wildcard $(FIELD)/package-lock.json),$(FIELD)/package.json)
	cd $(FIELD) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi
	touch $@

$(FIELD_STAMP): $(FIELD_DEPS) $(FIELD_SOURCES)
	cd $(FIELD) && npm run build
	touch $@

# Ruff, then mypy with the Django and DRF plugins on the packages named in pyproject.toml.
lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

ci:
	bash .ci/run

worker: setup
	$(VENV)/bin/celery -A config worker --loglevel=INFO

beat: setup
	$(VENV)/bin/celery -A config beat --loglevel=INFO

bench-scoped-reads: setup
	$(PY) bench/scoped_reads.py $(BENCH_ARGS)

bench-points-ledger: setup
	$(PY) bench/points_ledger.py $(BENCH_ARGS)

bench-close-quarter: setup
	$(PY) bench/close_quarter.py $(BENCH_ARGS)

bench-field-app: setup field
	$(PY) bench/field_app.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .mypy_cache
