# `make up` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint check-format format bench soak histories clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

up: $(STAMP)
	$(BIN)/fireline up

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/fireline lint yaml_workflows

test: lint
	$(BIN)/pytest -q

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.dsl_overhead
	$(BIN)/python -m bench.ingest
	$(BIN)/python -m bench.approval
	$(BIN)/python -m bench.triage_quality
	$(BIN)/python -m bench.triage
	$(BIN)/python -m bench.console

# The long soak (bench/soak.py): needs FIRELINE_SOAK_POSTGRES_URL or FIRELINE_TEST_POSTGRES_URL.
soak: $(STAMP)
	$(BIN)/python -m bench.soak

# Re-record tests/histories/*.json (only for a deliberately incompatible workflow change).
histories: $(STAMP)
	$(BIN)/python -m tests.histories.record

clean:
	rm -rf $(VENV) .fireline .pytest_cache .mypy_cache .ruff_cache
