# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export AUTH_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: install run test lint worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## run: create the venv, migrate the SQLite database in instance/, serve on 127.0.0.1:5000
run: install
	$(BIN)/auth-service db upgrade
	$(BIN)/auth-service run --host 127.0.0.1 --port 5000

## test: the whole suite (SQLite; set AUTH_TEST_DATABASE_URL for PostgreSQL)
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check auth_service tests migrations

worker: install
	$(BIN)/auth-service worker

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist build
