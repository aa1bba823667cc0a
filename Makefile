# Loyalty Portal — the menu. Start here:
#
#   make run     serve the app with demo data on http://127.0.0.1:5000 (SQLite under instance/),
#                with the outbox worker beside it
#   make test    the whole suite, once on SQLite and once on a throwaway PostgreSQL
#
# Every target installs what it needs first: the virtualenv in .venv (redone only when
# pyproject.toml changes) and, for tests, the Debian packages postgresql, chromium and
# redis-server (scripts/install-system-deps.sh; apt-get only when they are missing).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# What running needs only (make run); the test toolchain comes with INSTALLED (make test, install).
RUN_INSTALLED := $(VENV)/.installed-run
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
# The address in join links, QR codes and e-mails follows the port `make run` serves on.
PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
# Extra pytest arguments for both passes, e.g. make test PYTEST_ARGS="-x -k stamp"
PYTEST_ARGS ?=
PYTEST := $(BIN)/python -m pytest -o faulthandler_timeout=600
# Browser tests exercise the web layer, not the database: SQLite pass only. API fuzzing runs on
# both (PostgreSQL refuses input that SQLite takes: NUL bytes, integers beyond 64 bits).
POSTGRES_PASS_MARKERS := not browser
# Local stand-in Apple Wallet certificates for `make run` (flask loyalty apple dev-certs).
APPLE_DEV_DIR ?= instance/apple-dev
# Catalogues kept for these locales (English is the source language).
LOCALES ?= fr de lb

.PHONY: help venv install system-deps compile-translations run worker test test-sqlite test-postgres \
	bench screenshots translations merge-drivers lint clean distclean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z -]+:.*## / {printf "  make %-22s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)

# ----------------------------------------------------------------------------- setup

venv install: $(INSTALLED) ## Create .venv and install the app with its dev tools

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "Python 3.11 (python3.11 or python3) is required" >&2; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON)"
	@$(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV); \
		PYTHON=$(PYTHON) scripts/install-system-deps.sh python3-venv && $(PYTHON) -m venv $(VENV); \
	}

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	@touch $@ $(RUN_INSTALLED)

$(RUN_INSTALLED): pyproject.toml | $(BIN)/python
	@# The full install (INSTALLED) has everything running needs: reuse it when it is current.
	@if [ ! $(INSTALLED) -nt pyproject.toml ]; then $(BIN)/python -m pip install -e .; fi
	@touch $@

system-deps: ## Install PostgreSQL server binaries, Chromium and redis-server if missing (apt-get)
	@scripts/install-system-deps.sh postgresql chromium redis-server

compile-translations: $(RUN_INSTALLED) ## Compile translations/*/LC_MESSAGES/*.po (if any)
	@if compgen -G 'translations/*/LC_MESSAGES/*.po' >/dev/null; then \
		$(BIN)/pybabel compile -d translations --statistics; \
	fi

# ----------------------------------------------------------------------------- everyday

# Debug mode: the development defaults of SECRET_KEY and PIN_PEPPER are refused without it.
run: $(RUN_INSTALLED) compile-translations ## Migrate, seed demo data if empty, serve on :5000 (debug; PORT=...) + outbox worker
	FLASK_DEBUG=1 $(FLASK) db upgrade
	FLASK_DEBUG=1 $(FLASK) loyalty demo --if-empty
	@echo "Demo sign-in details: docs/user-journeys.md (password loyalty-demo); e-mails are printed" \
		"here by the outbox worker unless MAIL_SERVER is set (README.md, Configuration)."
	@# Without real Apple certificates in the environment, sign passes with a local test chain
	@# (instance/apple-dev, made once) so the demo's "Add to Apple Wallet" works end to end.
	@# The outbox worker runs beside the web server; Ctrl-C (or the server ending) stops both.
	@export FLASK_DEBUG=1 PUBLIC_BASE_URL=$(PUBLIC_BASE_URL); \
	if [ -z "$$APPLE_PASS_TYPE_IDENTIFIER" ]; then \
		set -a; eval "$$($(FLASK) loyalty apple dev-certs --if-missing --directory $(APPLE_DEV_DIR) | grep =)"; set +a; \
	fi; \
	$(FLASK) loyalty worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(FLASK) run --host $(HOST) --port $(PORT)

worker: $(INSTALLED) ## Only the outbox worker, in debug mode like make run (make run starts one already)
	FLASK_DEBUG=1 $(FLASK) loyalty worker

test: $(INSTALLED) system-deps compile-translations ## Both passes: SQLite, then PostgreSQL
	@sqlite=0; postgres=0; \
	echo "=== pytest --db=sqlite ==="; \
	$(PYTEST) --db=sqlite $(PYTEST_ARGS) || sqlite=$$?; \
	echo "=== pytest --db=postgres -m '$(POSTGRES_PASS_MARKERS)' ==="; \
	$(PYTEST) --db=postgres -m "$(POSTGRES_PASS_MARKERS)" $(PYTEST_ARGS) || postgres=$$?; \
	echo "make test: SQLite pass exit $$sqlite, PostgreSQL pass exit $$postgres"; \
	[ $$sqlite -eq 0 ] && [ $$postgres -eq 0 ]

test-sqlite: $(INSTALLED) system-deps compile-translations ## Only the SQLite pass
	$(PYTEST) --db=sqlite $(PYTEST_ARGS)

test-postgres: $(INSTALLED) system-deps compile-translations ## Only the PostgreSQL pass
	$(PYTEST) --db=postgres -m "$(POSTGRES_PASS_MARKERS)" $(PYTEST_ARGS)

lint: $(INSTALLED) ## ruff check
	$(BIN)/ruff check .

# ----------------------------------------------------------------------------- occasional

bench: $(INSTALLED) ## Stamp hot path vs pgbench on a durable PostgreSQL; writes docs/performance.md
	@scripts/install-system-deps.sh postgresql wrk redis-server
	@# Debian keeps pgbench and friends in /usr/lib/postgresql/<version>/bin, off PATH.
	PATH="$$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1):$$PATH" \
		$(BIN)/python benchmarks/run.py

screenshots: $(INSTALLED) system-deps compile-translations ## Capture the screens (tests marked screenshots)
	$(PYTEST) tests -m screenshots --db=sqlite --screenshots

translations: $(INSTALLED) ## Extract strings, update (or start) each locale's catalogue, compile
	@mkdir -p translations
	@# No locations and sorted entries: branches that add strings then rarely touch the same lines.
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project "Loyalty Portal" \
		--no-location --sort-output -o translations/messages.pot .
	@for locale in $(LOCALES); do \
		if [ ! -f translations/$$locale/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel init -i translations/messages.pot -d translations -l $$locale; \
		fi; \
	done
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching \
		--ignore-pot-creation-date
	$(BIN)/pybabel compile -d translations --statistics

merge-drivers: $(INSTALLED) ## Let git merge translation catalogues as the union of both sides
	git config merge.po.name "union of translations"
	git config merge.po.driver "$(CURDIR)/$(BIN)/python $(CURDIR)/scripts/po_merge.py %O %A %B"

clean: ## Remove caches, compiled catalogues and test output (keeps .venv and instance/)
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .hypothesis test-results
	rm -f translations/*/LC_MESSAGES/*.mo

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
