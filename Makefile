# okr-autoscore — every target creates .venv and installs the project when it is missing
# or pyproject.toml changed, so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DAGSTER_HOME ?= $(CURDIR)/.dagster
INSTANCE := mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

.PHONY: demo test lint ui install clean bench

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/okr demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

ui: $(STAMP)
	$(INSTANCE)
	DAGSTER_HOME=$(DAGSTER_HOME) $(BIN)/dagster dev

# Not part of `make test`: 10M mart rows x 1,000 KRs takes minutes; writes docs/performance.md.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.bench_scoring

clean:
	rm -rf $(VENV) data .dagster .pytest_cache .ruff_cache
