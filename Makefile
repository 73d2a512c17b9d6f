# Quire — every set-up step lives here, so a fresh clone needs only `make run` or `make test`.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
HOST  ?= 127.0.0.1
PORT  ?= 8000
NODE_DIRS := frontend tests/interop bench

.PHONY: install venv node frontend chromium services run test test-fast lint types lint-js test-js check lock bench clean

install: venv node frontend

# Python packages come from requirements.lock (exact versions, every file's hash), never from
# pyproject.toml's ranges directly: two fresh clones install the same code. The project itself
# goes in editable with --no-deps; `pip check` then fails if pyproject names a package the lock
# lacks (run `make lock`).
venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip >/dev/null 2>&1 || true
	$(PIP) install --quiet --require-hashes -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	$(PIP) check
	touch $@

# Refresh requirements.lock from pyproject.toml's ranges (main and dev dependencies): every pin
# that still fits is kept, new packages are added. `make lock LOCK_ARGS=--upgrade` moves all to
# their newest allowed release, `LOCK_ARGS='--upgrade-package NAME'` one. pip-tools lives in its
# own venv so it never enters the project's.
LOCK_VENV := .venv-lock
PIP_TOOLS := pip-tools==7.7.0
lock:
	test -x $(LOCK_VENV)/bin/pip-compile || { python3 -m venv $(LOCK_VENV) && \
	  $(LOCK_VENV)/bin/pip install --quiet '$(PIP_TOOLS)'; }
	CUSTOM_COMPILE_COMMAND="make lock" $(LOCK_VENV)/bin/pip-compile --quiet --extra dev \
	  --generate-hashes --strip-extras --no-emit-index-url --no-emit-find-links \
	  --output-file requirements.lock $(LOCK_ARGS) pyproject.toml

# npm ci in every folder that has a lock file (frontend, Node interop tests, benchmarks).
node:
	@for d in $(NODE_DIRS); do \
	  if [ -f $$d/package-lock.json ]; then \
	    if [ ! -d $$d/node_modules ] || [ $$d/package-lock.json -nt $$d/node_modules/.package-lock.json ]; then \
	      echo "npm ci in $$d"; (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
	    fi; \
	  fi; \
	done

frontend: node
	@if [ -f frontend/package.json ]; then cd frontend && npm run --silent build; fi

# Debian's Chromium for the browser tests (playwright cannot download browsers here).
chromium:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing Debian chromium"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "chromium install failed: browser tests will skip"; \
	fi

# PostgreSQL and Redis for the tests that need them (CI must run them, never skip).
services:
	@bash .ci/services.sh

run: install
	mkdir -p data
	$(VENV)/bin/quire serve --host $(HOST) --port $(PORT)

test: install chromium services check
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# tests/ without the slow ones (-m "not slow"; tests/conftest.py lists them and why): under a
# minute on 2 cores. `make test` runs everything.
test-fast: install
	$(PY) -m pytest -q -p no:cacheprovider -m "not slow" tests $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# mypy: strict on crdt/ and storage/, no errors on server/ ([tool.mypy] in pyproject.toml)
types: venv
	$(VENV)/bin/mypy

# ESLint over the browser code (frontend/eslint.config.js: the recommended rules)
lint-js: node
	cd frontend && npm run --silent lint

# the front end's own unit tests (frontend/test, node:test: no browser, a second or two)
test-js: node
	cd frontend && npm test --silent

# what CI checks besides the Python and browser tests (make test runs it first)
check: lint types lint-js test-js

bench: install services
	$(PY) -m bench $(BENCH_ARGS)
	$(PY) -m bench.gate
	$(PY) -m bench.search
	$(PY) -m bench.access
	$(PY) -m bench.pg_commit
	$(PY) -m bench.instructions
	$(PY) -m bench.collector
	$(PY) -m bench.compaction
	$(PY) -m bench.compaction --pg

clean:
	rm -rf $(VENV) $(LOCK_VENV) frontend/node_modules frontend/static/dist tests/interop/node_modules bench/node_modules
