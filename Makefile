# Two commands: `make run` (set up, migrate, demo data, serve) and `make test` (set up, whole suite).
# Only python3 (>= 3.11) and make are needed; everything else goes into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup run test lint migrate demo ci clean worker beat bench-scoped-reads bench-points-ledger bench-close-quarter

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

run: demo
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# The suite in 4 processes (pytest-xdist); PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 4
test: setup
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

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

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache
