# Every target is listed by `make help`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
EXTRAS ?= dev
HOST ?= 127.0.0.1:8000
DEMO_SIZE ?= small

.DEFAULT_GOAL := help
.PHONY: help setup demo run migrate test test-mariadb lint format check mariadb-start mariadb-stop galera-start galera-stop test-galera bench bench-galera bench-smoke clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

setup: $(BIN)/python ## Create the virtual environment and install the project (EXTRAS=dev,mysql for MariaDB)
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	touch $(VENV)/.installed

# `make test` on a fresh clone installs the project first (once; again when pyproject.toml changes).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	touch $@

migrate: ## Apply database migrations (and load the record-type registry)
	$(BIN)/python manage.py migrate --no-input

demo: setup migrate ## Set up, load demo data, print the credentials and serve on $(HOST) with SQLite
	$(BIN)/python manage.py demodata --size $(DEMO_SIZE) --url http://$(HOST)
	$(BIN)/python manage.py runserver $(HOST)

run: ## Serve on $(HOST) with gunicorn (a single host makes its own SECRET_KEY; several share one)
	$(BIN)/gunicorn syncserver.wsgi --bind $(HOST) --workers 2

test: $(VENV)/.installed ## Run the test suite (SQLite, or the database in DATABASE_URL)
	$(BIN)/pytest -q --durations=15

test-mariadb: ## Start the project's throwaway MariaDB and run the test suite on it
	scripts/mariadb.sh start
	DATABASE_URL=$$(scripts/mariadb.sh url) $(BIN)/pytest -q --durations=15

lint: ## ruff, mypy (pyproject.toml), and a check that no model change lacks its migration
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python manage.py makemigrations --check --dry-run

format: ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

mariadb-start: ## Start the throwaway MariaDB (scripts/mariadb.sh)
	scripts/mariadb.sh start

mariadb-stop: ## Stop it
	scripts/mariadb.sh stop

galera-start: ## Start the throwaway 3-node Galera cluster (scripts/galera.sh)
	scripts/galera.sh start

galera-stop: ## Stop it
	scripts/galera.sh stop

# The concurrency tests spread their threads over the three nodes; SYNC_DEADLOCK_RETRIES as docs/scaling.md
# advises when every node takes writes.
GALERA_ENV = GALERA_URLS=$$(scripts/galera.sh urls) DATABASE_URL=$$(scripts/galera.sh url 1) SYNC_DEADLOCK_RETRIES=10

test-galera: ## Start the cluster; run the concurrency, fault and failover tests on it (docs/scaling.md)
	scripts/galera.sh start
	$(GALERA_ENV) $(BIN)/pytest -q -m "mariadb or galera"
	$(GALERA_ENV) $(BIN)/pytest -q tests/api/test_database_errors.py tests/api/test_push.py

bench: ## Benchmarks at scale against MariaDB (docs/performance.md); BENCH_ARGS="--scale 0.2 ..."
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-galera: ## The benchmarks against the 3-node Galera cluster, through node 1
	$(BIN)/python -m bench.run --galera $(BENCH_ARGS)

bench-smoke: ## A few-second run of the benchmark so it cannot rot
	$(BIN)/python -m bench.run --smoke

clean: ## Remove the virtual environment, the SQLite database and the throwaway MariaDB
	scripts/mariadb.sh clean || true
	scripts/galera.sh clean || true
	rm -rf $(VENV) syncserver.sqlite3* staticfiles
