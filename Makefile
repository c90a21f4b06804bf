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
# `make run PORT=5050` serves on another port; emailed links follow it unless AUTH_BASE_URL is set.
HOST ?= 127.0.0.1
PORT ?= 5000
run: install
	$(BIN)/auth-service db upgrade
	$(BIN)/auth-service run --host $(HOST) --port $(PORT)

## test: the whole suite (SQLite; set AUTH_TEST_DATABASE_URL for PostgreSQL; PYTEST_ARGS for pytest)
# The WordPress plugin's tests need php-cli, php-mysql, Debian's wordpress files and
# MariaDB, the browser tests Debian's chromium; the first lines say whether they run here.
test: install
	@$(BIN)/python -m tests.wordpress
	@$(BIN)/python -m tests.browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## docs: rewrite README's configuration table from auth_service/config.py
.PHONY: docs
docs: install
	$(BIN)/python -m auth_service.settings_doc README.md

## translations: extract every message, update each language's catalogue, compile them
# (auth_service/translations/<code>/LC_MESSAGES/; docs/languages.md says how to add one:
# `make translations NEW=xx` starts the catalogue of language xx)
.PHONY: translations
TRANSLATIONS := auth_service/translations
translations: install
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_ngettext:1,2 --no-location --omit-header \
	  --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(if $(NEW),$(BIN)/pybabel -q init -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $(NEW))
	for code in $$(ls $(TRANSLATIONS) | grep -v messages.pot); do \
	  $(BIN)/pybabel -q update --no-fuzzy-matching --ignore-obsolete \
	    --init-missing -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -l $$code || exit 1; done
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

lint: install
	$(BIN)/ruff check auth_service tests migrations bench examples

worker: install
	$(BIN)/auth-service worker

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache dist build

## demo: the service on 127.0.0.1:5000 and the demo content site on 127.0.0.1:5001 (Ctrl+C stops both)
# Both on 127.0.0.1: cookies are not port-isolated, so the site receives the service's
# session cookie without AUTH_COOKIE_DOMAIN. Started with `&`, the service would ignore
# Ctrl+C (a non-interactive shell does that to background jobs), hence the trap.
.PHONY: demo
demo: install
	$(BIN)/auth-service db upgrade
	@AUTH_TRUSTED_ORIGINS=http://127.0.0.1:5001 $(BIN)/auth-service run --host 127.0.0.1 --port 5000 & \
	service=$$!; \
	trap 'kill $$service 2>/dev/null; wait $$service 2>/dev/null' EXIT INT TERM; \
	AUTH_SERVICE_URL=http://127.0.0.1:5000 $(BIN)/python examples/content_site/app.py --host 127.0.0.1 --port 5001

## bench: /api/session under the production gunicorn settings, next to a bare Flask app (wrk); writes docs/benchmarks.md
# It installs nothing: without wrk it says what it needs and stops.
.PHONY: bench
bench: install
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "bench: needs wrk, the HTTP load generator, on the PATH (Debian and Ubuntu:" \
	       "apt-get install wrk; macOS: brew install wrk). Install it and run make bench again."; \
	  exit 1; }
	$(BIN)/python bench/run.py

## bench-cost: CPU per /api/session check here and at AGAINST (a commit), alternating (prints only)
.PHONY: bench-cost
AGAINST ?= HEAD~1
bench-cost: install
	$(BIN)/python bench/cost.py --against $(AGAINST)

## bench-token: the site-side cost of a check: TokenVerifier offline vs SessionClient (writes its section of docs/benchmarks.md)
.PHONY: bench-token
bench-token: install
	$(BIN)/python bench/verify.py
