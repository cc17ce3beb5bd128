# 通办 — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: run test install browser lint format openapi bench bench-quick bench-tools clean

$(UV):
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# Installs exactly what uv.lock pins (runtime + dev group); --inexact keeps uv itself in the venv.
# Bytecode is compiled at install, as a deployment does: where PYTHONDONTWRITEBYTECODE is set
# every process would otherwise compile every module from source (jieba's HMM tables alone cost
# 60 MB of RSS per web worker that way, and gunicorn's workers took 20 s to boot).
install: $(UV)
	$(UV) sync --frozen --inexact --python $(PY) --quiet --compile-bytecode
	$(PY) -m compileall -q -j 0 tongban

# Demo platform on the embedded default (SQLite under var/): web on http://$(HOST):$(PORT) + Huey worker.
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	$(PY) manage.py serve --addr $(HOST):$(PORT)

# Debian Chromium for the Playwright browser tests (never Playwright's own browser download).
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; } || { \
	  echo "Installing Debian chromium and CJK fonts for browser tests..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

# The whole suite. DATABASE_URL=postgres://... runs it on PostgreSQL; default is SQLite.
test: install browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -p no:cacheprovider -n 2 --dist loadfile $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# Regenerate the committed OpenAPI document (a test fails when code and document disagree).
openapi: install
	$(PY) manage.py export_openapi docs/openapi.json

# Load, scale and search benchmarks (bench/README.md): gunicorn + PostgreSQL + Redis + Huey as in
# production, mixed load, ceilings, 100k and 1M cases (up to ~30 min). bench-quick: 100k, < 5 min.
BENCH_ARGS ?=
bench: install bench-tools
	$(PY) -m bench.run $(BENCH_ARGS)

bench-quick: install bench-tools
	$(PY) -m bench.run --quick $(BENCH_ARGS)

# pgbench (Debian, with the PostgreSQL server packages) and py-spy (PyPI), each only when missing.
bench-tools: $(UV)
	@command -v pgbench >/dev/null 2>&1 || { \
	  echo "Installing Debian postgresql-contrib for pgbench..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-contrib >/dev/null; }
	@test -x $(VENV)/bin/py-spy || $(UV) pip install --python $(PY) --quiet "py-spy==0.4.3"

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-output
