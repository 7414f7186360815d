# Two commands do everything on a fresh machine with Python 3.11+ and make:
#   make dev   - the local platform: PostgreSQL, migrations, demo data, the portal on localhost
#   make test  - every check: ruff, sqlfluff, the test suites (database, infra, compliance, portal)
SHELL := /bin/bash
# The first interpreter that actually runs and is 3.11+ (pyenv shims may exist for versions that do not).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev test lint fmt bench mutate browser clean

# (Re)build .venv whenever pyproject.toml changes; the stamp records the last successful install.
$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required: install it (python3 --version) and run make again" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/nexk dev

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint db
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/nexk rls lint
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint db

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix db

bench: $(STAMP)
	$(BIN)/python -m bench

# Mutation testing of the RLS policies (about 10 minutes on 2 cores; CI runs it nightly): every mutant must be
# killed or documented as equivalent in db/rls/equivalent-mutants.yaml.
mutate: $(STAMP)
	@mkdir -p test-artifacts
	$(BIN)/nexk rls mutate --json-out test-artifacts/mutation.json

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "The browser tests need Debian's chromium: run 'sudo apt-get install chromium' and make test again" >&2; exit 1; fi; }

clean:
	-$(BIN)/nexk db stop
	rm -rf $(VENV)
