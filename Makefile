# Every entry point of the package. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
HARNESS := PYTHONPATH=python_tests $(PY) -m harness
PYTEST := $(VENV)/bin/pytest
SQLFLUFF := $(VENV)/bin/sqlfluff
SQL_FILES := sql upgrades supabase python_tests/sql python_tests/bench/peers
DENO := $(CURDIR)/node_modules/.bin/deno
DENO_RUN := cd supabase/functions && DENO_DIR=$(CURDIR)/.deno NO_COLOR=1 $(DENO)

SUPABASE := node_modules/.bin/supabase
# `make lint` fails on any advisor warning (ADVISORS_FAIL_ON=none: report them only)
ADVISORS_FAIL_ON ?= warn
export ADVISORS_FAIL_ON

.PHONY: help deps system-deps venv node-deps deno functions-lint functions-serve db-up db-down \
        db-url migrate seed demo report test lint sqlfluff dblint types bundle migration release \
        uninstall bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

deps: system-deps venv node-deps ## install everything missing (apt packages, pgvector, the virtualenv, Deno, the Supabase CLI)

system-deps:
	@bash scripts/install-system-deps.sh

deno: node-deps

venv: $(VENV)/.installed

$(VENV)/.installed: python_tests/requirements.txt
	@python3 -m venv $(VENV) || { bash scripts/install-system-deps.sh --python && python3 -m venv $(VENV); }
	@$(PY) -m pip install -q --disable-pip-version-check -r python_tests/requirements.txt
	@touch $@

# Without a working Supabase CLI the harness applies migrations with its Python applier and
# says so.
node-deps: ## install Deno and the Supabase CLI from the npm registry (package.json)
	@bash scripts/install-node-tools.sh

db-up: deps ## start the embedded database (.pgdata) and print its URL
	@$(HARNESS) db-up

db-down: venv ## stop the embedded database
	@$(HARNESS) db-down

db-url: venv ## print the development database URL
	@$(HARNESS) db-url

migrate: deps ## apply new migrations with `supabase db push` (as postgres, a non-superuser)
	@$(HARNESS) migrate

seed: deps ## load supabase/seed.sql and supabase/seeds/*.sql
	@$(HARNESS) seed

demo: deps ## start the database, migrate, load the demo data, print a report
	@$(HARNESS) demo

report: venv ## print the report of the development database
	@$(HARNESS) report

sqlfluff: venv ## lint every SQL file with sqlfluff
	@$(SQLFLUFF) lint --disable-progress-bar --nocolor $(SQL_FILES)

dblint: deps ## on a throwaway database: plpgsql_check, `supabase db lint`, `supabase db advisors`
	@$(HARNESS) dblint

functions-lint: deno ## deno check, lint and fmt --check over every Edge Function
	@$(DENO_RUN) check --frozen --quiet .
	@$(DENO_RUN) lint --quiet
	@$(DENO_RUN) fmt --check --quiet
	@echo "Edge Functions: deno check, lint and fmt clean"

lint: sqlfluff functions-lint dblint ## sqlfluff, deno check/lint/fmt, then plpgsql_check, supabase db lint and db advisors (ADVISORS_FAIL_ON=warn: strict)

types: deps ## regenerate supabase/types/database.types.ts with `supabase gen types typescript`
	@$(HARNESS) types

bundle: venv ## write dist/llm.sql (install or upgrade, one file) and dist/llm-uninstall.sql
	@$(HARNESS) bundle

migration: venv ## write the next release's migration from sql/ and upgrades/ (NAME=words the first time)
	@$(HARNESS) migration $(NAME)

release: venv ## freeze the pending migration as VERSION=x.y.z in supabase/releases.json
	@$(HARNESS) release $(VERSION)

uninstall: venv ## remove the package from the development database (drops its data)
	@$(HARNESS) uninstall

test: deps sqlfluff functions-lint ## install what is missing, lint, run the test suite (Edge Functions' Deno tests included) on a throwaway cluster
	@$(PYTEST) -q

bench: deps ## run the benchmarks and print their ratios (also in dist/bench.txt, dist/bench.json, charted in dist/bench.png)
	@rm -f dist/bench.txt dist/bench.json dist/bench.png
	@$(PYTEST) -q -s -o python_files='bench_*.py' python_tests/bench; \
	  status=$$?; if [ $$status -eq 5 ]; then echo "no benchmarks yet"; exit 0; fi; exit $$status

clean: db-down ## stop the database and remove generated files
	rm -rf dist .pgdata .deno
