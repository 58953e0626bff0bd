# Entry points: `make demo`, `make test`, `make lint`, `make bench`. The venv is built on demand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help venv demo test lint fmt bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip >/dev/null
	$(BIN)/python -m pip install -q --disable-pip-version-check uv
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(BIN)/uv pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP) ## create .venv with wharf and its dev tools

DEMO_ENV := cd examples && WHARF_HOME=$(CURDIR)/examples/.wharf
demo: venv ## run the example sales pipeline on DuckDB + local files
	$(DEMO_ENV) ../$(BIN)/wharf materialize -f sales_pipeline.py
	$(DEMO_ENV) ../$(BIN)/wharf show sales_summary
	@$(DEMO_ENV) ../$(BIN)/python -c 'import sales_pipeline as p; \
	  print("\nsales_summary:"); print(p.defs.load_asset_value("sales_summary").to_string(index=False))'

test: lint ## lint, type-check, then run every test
	$(BIN)/pytest -q

lint: venv ## ruff (format + lint) and mypy --strict
	$(BIN)/ruff format --check src tests bench examples
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy

fmt: venv ## format and auto-fix
	$(BIN)/ruff format src tests bench examples
	$(BIN)/ruff check --fix src tests bench examples

bench: venv ## run the benchmarks (builds a separate Dagster venv for comparison)
	$(BIN)/python bench/run_all.py

clean: ## remove the venvs and caches
	rm -rf $(VENV) bench/.venv-dagster .pytest_cache .mypy_cache .ruff_cache examples/.wharf
