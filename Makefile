# The two commands of the README:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install lint typecheck openapi openapi-check client-check python-client-check pytest migrate seed demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate, load regions and demo data, and serve on http://127.0.0.1:8000, with a
## background-jobs worker (`inovasi worker`) beside the server, stopped (SIGTERM) when it stops.
run: $(STAMP)
	$(BIN)/inovasi migrate
	$(BIN)/inovasi seed
	$(BIN)/inovasi demo
	$(BIN)/inovasi worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/inovasi serve

## Set up and run every check: lint, types, OpenAPI drift, both generated clients, tests.
test: $(STAMP) lint typecheck openapi-check python-client-check client-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/python -m scripts.export_openapi openapi.json

openapi-check: $(STAMP)
	$(BIN)/python -m scripts.export_openapi --check openapi.json

# Two worker processes (this machine's cores), each on a database of its own; each test file
# runs on one worker, so a module's shared fixtures are built once.
PYTEST_WORKERS ?= 2
pytest: $(STAMP)
	$(BIN)/python -m scripts.run_pytest -n $(PYTEST_WORKERS) --dist loadfile

# The TypeScript client (openapi-typescript, openapi-fetch): skipped without Node.js.
client-check: $(STAMP)
	bash scripts/check_typescript_client.sh

# The Python client (openapi-python-client): fails on any generator warning.
python-client-check: $(STAMP)
	bash scripts/check_python_client.sh

migrate seed demo: $(STAMP)
	$(BIN)/inovasi $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .build
