# Two commands: `make run` (set up, migrate, demo data, serve) and `make test` (set up, whole suite).
# Only python3 (>= 3.11) and make are needed; everything else goes into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint migrate demo ci clean worker beat bench-scoped-reads bench-points-ledger bench-close-quarter field bench-field-app bench-dashboard
.PHONY: dashboard

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

run: demo field dashboard
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite in 4 processes (pytest-xdist); PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 4
test: setup field dashboard
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The front ends, each a Vite project built into its dist/ and served by Django:
# - field (issue 11): frontend/field, the grid worker's app at /m/;
# - dashboard (issue 12): frontend/dashboard (dashboard.js, dashboard.css), static files under
#   dashboard/ for the /dashboard/ page.
# `npm ci` when node_modules is missing or older than the lock file (npm writes
# node_modules/.package-lock.json on every install), `npm run build` when a source is newer than
# the last build. Skipped, saying so, with no npm or before the project's package.json exists
# (the page then answers "not built" and its browser tests skip).
NPM := $(shell command -v npm 2>/dev/null)

# $(call vite_app,target,folder,what skipping means)
define vite_app
$(1)_DEPS := $(2)/node_modules/.package-lock.json
$(1)_STAMP := $(2)/dist/.built
$(1)_SOURCES := $$(shell find $(2)/src $(2)/public -type f 2>/dev/null) \
	$$(wildcard $(2)/index.html $(2)/vite.config.* $(2)/package.json)

$(1):
ifeq ($$(NPM),)
	@echo "== $(1): SKIPPED, npm not found (install Node.js >= 20 and npm; $(3))"
else ifeq ($$(wildcard $(2)/package.json),)
	@echo "== $(1): SKIPPED, $(2)/package.json is not there"
else
	@$$(MAKE) --no-print-directory $$($(1)_STAMP)
endif

$$($(1)_DEPS): $$(or $$(wildcard $(2)/package-lock.json),$(2)/package.json)
	cd $(2) && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; \
		else npm install --no-audit --no-fund; fi
	touch $$@

$$($(1)_STAMP): $$($(1)_DEPS) $$($(1)_SOURCES)
	cd $(2) && npm run build
	touch $$@
endef

$(eval $(call vite_app,field,frontend/field,/m/ says not built and its browser tests skip))
$(eval $(call vite_app,dashboard,frontend/dashboard,/dashboard/ says not built))

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

bench-dashboard: setup
	$(PY) bench/dashboard.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .mypy_cache
