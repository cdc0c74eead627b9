PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := .demo/custdesk.json
DEMO_CUSTOMERS ?= 5000

.PHONY: demo test lint bench bench-pg screenshots browser postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	rm -f $(DEMO_DB) $(DEMO_DB).log $(DEMO_DB).lock
	$(BIN)/custdesk --db $(DEMO_DB) demo --customers $(DEMO_CUSTOMERS)

# The walls of the architecture (import contracts), the linter and the type checker, then the suite.
lint: $(VENV)/.installed
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser postgres
	$(BIN)/python -m pytest -q

# The browser test (tests/test_web.py) drives Debian's Chromium: installed here when
# missing and make runs as root (CI); elsewhere that one test is skipped, saying why.
browser:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get install -y -q chromium >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null); \
	fi

# The store suites run on PostgreSQL too (tests/pg_server.py starts a throwaway server in a
# temporary folder): Debian's postgresql is installed here when no server binaries are found
# and make runs as root (CI); elsewhere those runs are skipped, saying why.
postgres:
	@if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		&& [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's postgresql for the store tests on PostgreSQL"; \
		apt-get install -y -q postgresql >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q postgresql >/dev/null); \
	fi

BENCH_SIZES ?= 100000,1000000

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES)

# The figures on PostgreSQL beside the store file's (a server started in a temporary folder).
bench-pg: $(VENV)/.installed postgres
	$(BIN)/python bench/pg_bench.py --size 100000

# README's pictures (docs/screens/*.svg), from the snapshot tests' own screens (tests/screen_cases.py).
screenshots: $(VENV)/.installed
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
