# The few commands a person types. `make help` lists them.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install demo test lint typecheck unit services clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --python $(BIN)/python --quiet -e '.[dev,airflow]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install AutoHub with its dev tools

demo: $(STAMP)  ## run the main job on the embedded default (SQLite/DuckDB, no servers)
	$(BIN)/autohub demo

lint: $(STAMP)  ## ruff (incl. Airflow AIR rules)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)  ## mypy strict on the library code
	$(BIN)/mypy

unit: $(STAMP)  ## the pytest suite only
	$(BIN)/pytest

test: lint typecheck unit  ## the whole suite: lint, types, tests

services:  ## start the machine's PostgreSQL, MariaDB, RabbitMQ, Redis if they are down
	bash .ci/services.sh

clean:  ## remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache var
