# Entry points: `make demo`, `make test`, `make lint`, `make bench`. The venv is built on demand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
DEMO_STAMP := $(VENV)/.installed-demo
# Bytecode goes to one cache inside the venv, never beside the sources. Writing it at all matters:
# every fresh process (executor workers, CLI and doctest subprocesses) would otherwise compile
# pandas, pyarrow and the rest again (~6 s instead of ~1.6 s per import of them, measured here).
export PYTHONPYCACHEPREFIX := $(CURDIR)/$(VENV)/pycache
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help venv demo dev screenshots test lint fmt bench clean postgres-server mariadb-server azurite chromium

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# One venv, two install sets, each with its own stamp: the demo's (wharf[demo]: DuckDB, pandas,
# pyarrow) and the development set the tests need (wharf[dev]: every store's client, the local
# stand-ins, pyspark, dask, pytest, mypy, ruff). `make demo` never pulls the development set.
$(BIN)/uv:
	@echo "==> creating $(VENV) with $$($(PY) --version) and installing uv into it"
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	@$(BIN)/python -m pip install -q --disable-pip-version-check 'uv>=0.4,<1'

$(DEMO_STAMP): pyproject.toml | $(BIN)/uv
	@echo "==> installing wharf with the demo extra (wharf[demo]: duckdb, pandas, pyarrow)"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install -e '.[demo]'
	@touch $@

$(STAMP): pyproject.toml | $(BIN)/uv
	@echo "==> installing wharf with the development set (wharf[dev]: every store's client,"
	@echo "    the local stand-ins, pyspark, dask, pytest, mypy, ruff; about 1.5 GB)"
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv with wharf and its dev tools

# The BigQuery emulator's own venv: its sqlglot/duckdb pins clash with fakesnow's (backends.md).
# duckdb 1.5.5 because the spatial extension it insists on ships as a wheel only for that version.
BQ_VENV := .venv-bq
BQ_STAMP := $(BQ_VENV)/.installed
$(BQ_STAMP): $(STAMP)
	@test -x $(BQ_VENV)/bin/python || $(BIN)/uv venv -q --python "$$(command -v $(PY))" $(BQ_VENV)
	VIRTUAL_ENV=$(CURDIR)/$(BQ_VENV) $(BIN)/uv pip install -q 'bqemulator==1.4.0' 'duckdb==1.5.5' \
	  'duckdb-extension-spatial==1.5.5' 'duckdb-extensions==1.5.5' numpy
	@touch $@
$(BQ_VENV): $(BQ_STAMP)

# PostgreSQL server binaries for the tests' throw-away server (wharf.testing.postgres): Debian's
# package, installed only when no /usr/lib/postgresql/*/bin/initdb exists (needs root or sudo).
PG_STAMP := $(VENV)/.postgres-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
$(PG_STAMP): $(STAMP)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing the PostgreSQL server (Debian package postgresql) for the tests"; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null
	@touch $@
postgres-server: $(PG_STAMP) ## ensure PostgreSQL server binaries for the tests (apt-get)

# MariaDB server binaries for the MySQL store's throw-away test server (wharf.testing.mysql):
# Debian's package, installed only when mariadbd is missing. The tests start their own mariadbd
# on a free loopback port in a temporary folder; the system service is not used.
MARIADB_STAMP := $(VENV)/.mariadb-server
$(MARIADB_STAMP): $(STAMP)
	@{ test -x /usr/sbin/mariadbd && test -x /usr/bin/mariadb-install-db; } || { \
	  echo "installing the MariaDB server (Debian package mariadb-server) for the tests"; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mariadb-server; }
	@test -x /usr/sbin/mariadbd && test -x /usr/bin/mariadb-install-db
	@touch $@
mariadb-server: $(MARIADB_STAMP) ## ensure MariaDB server binaries for the tests (apt-get)

# Debian's chromium and chromedriver for the web UI's browser tests (tests/ui, selenium):
# installed only when missing; no browser is downloaded by any test.
CHROMIUM_STAMP := $(VENV)/.chromium
$(CHROMIUM_STAMP): $(STAMP)
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || { \
	  echo "installing chromium and chromium-driver (Debian packages) for the UI tests"; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }
	@test -x /usr/bin/chromium && test -x /usr/bin/chromedriver
	@touch $@
chromium: $(CHROMIUM_STAMP) ## ensure headless chromium + chromedriver for the UI tests (apt-get)

# dosfstools and fusefat: a real case-insensitive file system (FAT in FUSE, no kernel module
# needed) for the test of wharf's case probe; installed only when missing.
FAT_STAMP := $(VENV)/.fusefat
$(FAT_STAMP): $(STAMP)
	@{ test -x /usr/sbin/mkfs.vfat && test -x /usr/bin/fusefat; } || { \
	  echo "installing dosfstools and fusefat (Debian packages) for the case-insensitive file test"; \
	  $(SUDO) apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q dosfstools fusefat; }
	@test -x /usr/sbin/mkfs.vfat && test -x /usr/bin/fusefat
	@touch $@

# Azurite, the Azure Blob stand-in the object-store tests start (wharf.testing.servers).
# Pinned: Azurite 3.36+ needs Node >= 22, this machine kind has Node 20 (backends.md).
AZURITE_VERSION := 3.35.0
AZURITE_STAMP := .azurite/.installed-$(AZURITE_VERSION)
$(AZURITE_STAMP):
	npm install --prefix .azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)
	@touch $@
azurite: $(AZURITE_STAMP) ## install Azurite (npm) for the object-store tests

DEMO_ENV := cd examples && WHARF_HOME=$(CURDIR)/examples/.wharf
demo: $(DEMO_STAMP) ## install only what the demo needs, run the example sales pipeline on DuckDB
	@echo "==> wharf materialize -f examples/sales_pipeline.py"
	@$(DEMO_ENV) ../$(BIN)/wharf materialize -f sales_pipeline.py
	@echo "==> wharf show sales_summary -f examples/sales_pipeline.py"
	@$(DEMO_ENV) ../$(BIN)/wharf show sales_summary -f sales_pipeline.py
	@echo "==> next: make dev  (wharf dev -f examples/sales_pipeline.py: the web UI on http://127.0.0.1:3000)"

UI_STAMP := $(VENV)/.installed-ui
$(UI_STAMP): pyproject.toml | $(BIN)/uv
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install -q -e '.[demo,ui]'
	@touch $@
dev: $(UI_STAMP) ## the web UI and schedule daemon on the example pipeline (wharf dev)
	$(DEMO_ENV) ../$(BIN)/wharf dev -f sales_pipeline.py

test: lint $(BQ_STAMP) $(PG_STAMP) $(MARIADB_STAMP) $(AZURITE_STAMP) $(CHROMIUM_STAMP) $(FAT_STAMP) ## lint, type-check, then run every test
	$(BIN)/pytest -q -n auto --dist worksteal

lint: venv ## ruff (format + lint) and mypy --strict
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

fmt: venv ## format and auto-fix
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

screenshots: venv $(CHROMIUM_STAMP) ## regenerate the README's pictures of the web UI (headless chromium)
	$(BIN)/python -m tests.ui.screenshots docs/pictures

bench: venv ## run the benchmarks (builds a separate Dagster venv for comparison)
	$(BIN)/python bench/run_all.py

clean: ## remove the venvs and caches
	rm -rf $(VENV) $(BQ_VENV) .azurite bench/.venv-dagster .pytest_cache .mypy_cache .ruff_cache examples/.wharf
