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
UV := $(BIN)/uv
# The Supabase CLI (npm package, pinned with integrity hashes in tools/supabase-cli/package-lock.json),
# installed project-locally: ops use it on this repository, db/tests/test_supabase_cli.py proves it works.
SUPABASE_CLI := .tools/supabase-cli/node_modules/.bin/supabase

# The suites run in parallel worker processes, a module (or a group of modules sharing one record, see
# conftest.py) at a time; `make test PYTEST_PARALLEL=` runs them in one process.
PYTEST_PARALLEL ?= -n auto --maxprocesses=4 --dist loadgroup
# Line coverage of the six packages ([tool.coverage] in pyproject.toml, whose fail_under is the floor CI
# holds); `make test COVERAGE=` runs without measuring.
COVERAGE ?= --cov --cov-report=term --cov-report=xml:test-artifacts/coverage.xml

.PHONY: dev test lint typecheck fmt bench mutate browser supabase-cli lock clean

# uv installs .venv from uv.lock: every package (base set and all extras) at its locked version, each file
# checked against the lock's sha256, then the project itself in editable mode. uv comes from the lock too: the
# first install takes it from PyPI with pip, hash-checked against uv.lock; after that `uv sync` keeps it at
# the locked version. Vercel installs the same lock's base set (`uv sync --frozen --no-dev`, no extras).
$(UV): uv.lock
	@test -n "$(PYTHON)" || { echo "Python 3.11+ is required: install it (python3 --version) and run make again" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c 'import tomllib; uv = next(p for p in tomllib.load(open("uv.lock", "rb"))["package"] if p["name"] == "uv"); print("uv==" + uv["version"], *("--hash=" + f["hash"] for f in [*uv["wheels"], uv["sdist"]]))' > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r $(VENV)/uv-requirement.txt
	@touch $(UV)

# (Re)build .venv whenever pyproject.toml or uv.lock changes; the stamp records the last successful install.
# --locked refuses a uv.lock that no longer matches pyproject.toml (then run `make lock`).
$(STAMP): pyproject.toml uv.lock $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --locked --all-extras --python $(BIN)/python --quiet \
	  || { echo "uv could not install .venv from uv.lock (if pyproject.toml changed, run 'make lock' first)" >&2; exit 1; }
	@touch $(STAMP)

# Regenerate uv.lock after a change to pyproject.toml (keeps every other pin); `make lock UPGRADE=1` moves
# every package to its newest version allowed by pyproject.toml. Review the diff, then `make test`.
lock: $(UV)
	$(UV) lock $(if $(UPGRADE),--upgrade)

dev: $(STAMP)
	$(BIN)/nexk dev

# After the suites, `nexk compliance evidence` checks that every claim of the published policy was proved by a
# test that touched the database, the portal or the program in the run that just ended
# (test-artifacts/evidence.json; docs/compliance.md).
test: $(STAMP) browser $(SUPABASE_CLI)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint db
	$(BIN)/zizmor --offline --quiet .github/workflows
	$(BIN)/nexk rls lint
	$(BIN)/mypy
	HYPOTHESIS_PROFILE=ci $(BIN)/pytest $(PYTEST_PARALLEL) $(COVERAGE) --junitxml=test-artifacts/junit.xml
	$(BIN)/nexk compliance evidence

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint db

# mypy over app, infra, compliance, db and nexk ([tool.mypy] in pyproject.toml); `make test` runs it too.
typecheck: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix db

# Every benchmark under bench/ at the size of the README's figures (10 to 15 minutes on 2 cores; it seeds and then
# drops a 1M-ticket database of about 2 GB); `make bench BENCH=isolation` runs one (`python -m bench --list`).
bench: $(STAMP)
	$(BIN)/python -m bench $(if $(BENCH),--only $(BENCH))

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

# The Supabase CLI from npm (its Linux/macOS/Windows binaries are npm packages too), integrity-checked by npm ci.
supabase-cli: $(SUPABASE_CLI)

$(SUPABASE_CLI): tools/supabase-cli/package.json tools/supabase-cli/package-lock.json
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; \
	  else echo "The Supabase CLI test needs npm: run 'sudo apt-get install nodejs npm' and make test again" >&2; exit 1; fi; }
	@mkdir -p .tools/supabase-cli
	cp tools/supabase-cli/package.json tools/supabase-cli/package-lock.json .tools/supabase-cli/
	npm ci --prefix .tools/supabase-cli --no-audit --no-fund --loglevel=error
	@touch $(SUPABASE_CLI)

clean:
	-$(BIN)/nexk db stop
	rm -rf $(VENV) .tools
