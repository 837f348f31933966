# The two commands: `make run` serves the API, `make test` runs lint and the whole suite.
# Both set everything up first (virtual environment, locked dependencies, migrations): `make run`
# installs the runtime lock only (requirements/base.txt), `make test` adds the test lock.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
POSTGRES_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test help lint format migrate venv clean simulator test-sqlite test-shifted test-postgres bench bench-scale mutate lock

# Development mode whatever .env holds: a .env with DJANGO_DEBUG=false (production settings, for
# docker compose) is left out, and make run says so before it starts (scripts/run_local.py).
run: $(VENV)/.runtime ## serve the API on http://127.0.0.1:8000 (HOST=..., PORT=... to change)
	@$(BIN)/python scripts/run_local.py $(HOST) $(PORT)

test: $(VENV)/.installed $(VENV)/checkov/.installed lint test-sqlite test-shifted fuzz test-postgres ## lint, the suite on SQLite (today and a year ahead), the fuzz, the suite on PostgreSQL

help: ## list these targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

lint: $(VENV)/.installed ## ruff lint and format check, mypy over rooms, kaleyra, crud and common
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DATABASE_URL= $(BIN)/mypy rooms kaleyra crud common

format: $(VENV)/.installed ## ruff format and autofix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test-sqlite: $(VENV)/.installed ## the suite on SQLite (PYTEST_ARGS=... to narrow it)
	@echo "==> Test suite on SQLite"
	DATABASE_URL= $(BIN)/python -m pytest $(PYTEST_ARGS)

# The SQLite suite with the process clock a year and a day ahead (Debian's faketime): a test that
# depends on the date fails the day it is written. FAKETIME_SHIFT=+1826d looks five years ahead.
FAKETIME_SHIFT ?= +366d
test-shifted: $(VENV)/.installed ## the suite on SQLite with the clock shifted FAKETIME_SHIFT (skipped without faketime)
	@$(BIN)/python scripts/shifted_leg.py "$(FAKETIME_SHIFT)" $(PYTEST_ARGS)

test-postgres: $(VENV)/.installed ## the suite on PostgreSQL at POSTGRES_TEST_URL (skipped if unreachable)
	@$(BIN)/python scripts/postgres_leg.py "$(POSTGRES_TEST_URL)" $(PYTEST_ARGS)

migrate: $(VENV)/.runtime ## apply database migrations
	$(BIN)/python manage.py migrate --noinput

# schemathesis against a live gunicorn (SQLite in a temp dir, Kaleyra simulator); docs/testing.md.
FUZZ_EXAMPLES ?= 50
.PHONY: fuzz
fuzz: $(VENV)/.installed ## schemathesis over the OpenAPI document against a live server
	@echo "==> Fuzz: schemathesis over /documentation/json"
	$(BIN)/python scripts/fuzz.py --max-examples $(FUZZ_EXAMPLES) $(FUZZ_ARGS)

# Every sh block of the README and docs/api.md, in order, against a live server (docs/testing.md);
# the suite runs the same in tests/foundation/test_doc_blocks.py.
.PHONY: docs
docs: $(VENV)/.installed ## run the README's and docs/api.md's shell blocks against a live server
	$(BIN)/python scripts/doc_blocks.py

# Mutation testing of the rules (pyproject.toml [tool.mutmut]); a figure to watch, not a gate.
mutate: $(VENV)/.installed ## mutmut over the rules; prints the score and the survivors (docs/testing.md)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/mutate.txt
	rm -rf mutants
	$(BIN)/mutmut run
	$(BIN)/mutmut export-cicd-stats
	@$(BIN)/python scripts/mutation_score.py

bench: $(VENV)/.installed ## the service against the bare minimum at 50 ms Kaleyra latency (docs/performance.md)
	$(BIN)/python bench/run.py

# PostgreSQL only; about 7 minutes, most of it seeding a million visits. BENCH_SCALE_ARGS=--keep
# leaves the two databases (bench_scale_10k, bench_scale_1m) for psql.
bench-scale: $(VENV)/.installed ## read paths and clean-up at 1M visits against 10k (docs/performance.md)
	$(BIN)/python bench/scale.py $(BENCH_SCALE_ARGS)

simulator: $(VENV)/.runtime ## the Kaleyra simulator over HTTP on port 8787
	$(BIN)/python manage.py kaleyra_simulator --port 8787

venv: $(VENV)/.installed ## create .venv with the locked dependencies, runtime and test

# The runtime lock alone: what `make run` and the image need (requirements/base.txt).
$(VENV)/.runtime: requirements/base.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.txt
	touch $@

# The test lock: the runtime lock's packages at the same versions, plus the test and lint tools.
$(VENV)/.installed: $(VENV)/.runtime requirements/test.txt
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	touch $@

# The locks, with every package's hashes, from the requirements/*.in files. Pins already in a lock
# stay unless LOCK_ARGS says otherwise: LOCK_ARGS=--upgrade, or --upgrade-package NAME.
PIP_COMPILE = $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock: $(VENV)/.installed ## recompute requirements/*.txt (pinned, with hashes) from requirements/*.in
	$(PIP_COMPILE) -o requirements/base.txt requirements/base.in
	$(PIP_COMPILE) -o requirements/test.txt requirements/test.in
	$(PIP_COMPILE) -o requirements/mutate.txt requirements/mutate.in
	$(PIP_COMPILE) -o requirements/checkov.txt requirements/checkov.in

# checkov (tests/foundation/test_kubernetes.py) in an environment of its own: its dependencies
# clash with the test pins.
$(VENV)/checkov/.installed: requirements/checkov.txt $(VENV)/.installed
	test -x $(VENV)/checkov/bin/python || $(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python -m pip install --quiet --require-hashes -r requirements/checkov.txt
	touch $@

clean: ## remove .venv, var/ and collected static files
	rm -rf $(VENV) var staticfiles
