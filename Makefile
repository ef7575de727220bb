# The README's commands. Everything installs into ./.venv from the committed uv.lock.
PYTHON ?= python3
UV := .uv/bin/uv
VENV := .venv
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast browser postgres lint typecheck ui bench clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/pip install --quiet uv==0.13.8

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-extras --compile-bytecode --quiet
	touch $@

setup: $(VENV)/.installed

# Headless Chromium from Debian for the browser tests of the HTML reports.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		(apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium could not be installed: browser tests will be skipped"; }

# PostgreSQL server binaries from Debian for the production-deployment test, which runs a
# throw-away cluster of its own (tests/deployment).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || { \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) || \
		echo "postgresql could not be installed: the deployment test will be skipped"; }

demo: setup
	$(VENV)/bin/rtr demo

test: setup browser postgres
	$(VENV)/bin/pytest -n 2 $(PYTEST_ARGS)

test-fast: setup
	$(VENV)/bin/pytest -n 2 -m "not slow and not browser" $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

ui: setup
	$(VENV)/bin/rtr ui

bench: setup
	$(VENV)/bin/python -m benchmarks

clean:
	rm -rf .rtr test-artifacts
