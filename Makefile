# The two commands of the README: `make run` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?=

.PHONY: run test lint bench

$(VENV)/.installed-app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed-app $@

# memgui on DATA_DIR when given (make run DATA_DIR=/srv/elysia/data), else on a generated demo store.
run: $(VENV)/.installed-app
	$(BIN)/memgui $(if $(DATA_DIR),"$(DATA_DIR)",--demo)

# The whole test suite (long soak variants excluded; run them with: .venv/bin/python -m pytest -m soak).
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-test
	$(BIN)/ruff check memgui tests benchmarks
	$(BIN)/mypy

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/bench_store.py
