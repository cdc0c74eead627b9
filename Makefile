PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DB := .demo/custdesk.json
DEMO_CUSTOMERS ?= 5000
CONSTRAINTS := constraints.txt

.PHONY: demo test constraints lint bench bench-pg bench-scale bench-import bench-export bench-sources bench-sessions bench-keys screenshots browser postgres clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per set installed: the app alone (demo) or with the test extras (test, lint, ...), both
# within the versions the suite last passed with. The extras hold the app, so installing them stamps
# both; either set is installed again when pyproject.toml or the constraints change.
$(VENV)/.installed-app: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	touch $@ $(VENV)/.installed-app

demo: $(VENV)/.installed-app
	rm -f $(DEMO_DB) $(DEMO_DB).log $(DEMO_DB).lock
	$(BIN)/custdesk --db $(DEMO_DB) demo --customers $(DEMO_CUSTOMERS)

# The walls of the architecture (import contracts), the linter and the type checker, then the suite.
lint: $(VENV)/.installed-test
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint browser postgres
	$(BIN)/python -m pytest -q

# After the suite passed, pins the versions it passed with (.venv's, custdesk itself left out).
# The venv then holds exactly them, so its stamps stay good.
constraints: test
	{ echo "# The versions the suite last passed with; written by \`make constraints\`."; \
	  $(BIN)/pip freeze --exclude-editable --exclude custdesk; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	touch -c $(VENV)/.installed-app $(VENV)/.installed-test

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

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES)

# The figures on PostgreSQL beside the store file's (a server started in a temporary folder).
bench-pg: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_bench.py --size 100000

# The customer table's pages read from a server holding millions of customers (issue 31): the
# database is built once into /var/tmp/custdesk-bench (10M: ~35 min, ~13 GB), then reused.
SCALE ?= 10000000
bench-scale: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_scale.py --customers $(SCALE)

# A million rows imported into the 10M database bench-scale builds, as `custdesk import` runs; then put back.
bench-import: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_import.py --customers $(SCALE)

# Exports from the 10M database bench-scale builds: the whole store by `custdesk export`, and the
# app's export of 100,000 chosen customers; then put back.
bench-export: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_export.py --customers $(SCALE)

# The source list of a million prospects beside the 10M database bench-scale builds: its first
# rows, keystrokes and the app's memory in a real pty; then put back.
bench-sources: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_sources.py --customers $(SCALE)

# Search keystrokes in the app in a real pty, on the 10M database bench-scale builds.
bench-keys: $(VENV)/.installed-test postgres
	$(BIN)/python bench/keystrokes.py --customers $(SCALE)

# A team on one PostgreSQL store: 20 sessions editing and searching at once, every edit checked.
bench-sessions: $(VENV)/.installed-test postgres
	$(BIN)/python bench/pg_sessions.py --customers 100000 --sessions 20

# README's pictures (docs/screens/*.svg), from the snapshot tests' own screens (tests/screen_cases.py).
screenshots: $(VENV)/.installed-test
	$(BIN)/python docs/screenshots.py

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
