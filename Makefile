# estate-bff: the verbs for developing and operating the service. `make` lists them.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-k auth -x"`.
PYTEST_ARGS ?=
# The message of a new migration: `make migration MESSAGE="add listings"`.
MESSAGE ?=
export MESSAGE

# `uv` when it is on PATH, otherwise through Python (pip may have put it off PATH).
# Recursively expanded on purpose: it is evaluated after `ensure-uv` has run.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: help ensure-uv install run test lint format migrate migration seed bench fuzz

help: ## list the targets
	@echo "usage: make <target>"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-10s %s\n", $$1, $$2}'

# Shared prerequisite of every target that calls uv (no `##`: not listed by help).
ensure-uv:
	@bash scripts/ensure-uv.sh

install: ensure-uv ## install the locked dependencies into .venv (uv sync --frozen)
	$(UV) sync --frozen

run: ensure-uv ## the whole system on this machine: services, migrations, seed, API (Ctrl-C stops all)
	@bash scripts/run.sh

test: ensure-uv ## lint, then the test suite (extra pytest arguments via PYTEST_ARGS=...)
	$(MAKE) lint
	$(UV) run pytest $(PYTEST_ARGS)

fuzz: ensure-uv ## schemathesis over the whole OpenAPI, signed in, every check (FUZZ_SECONDS, default 150)
	@bash scripts/fuzz.sh

lint: ensure-uv ## ruff check, ruff format --check, mypy
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy

format: ensure-uv ## format the code and apply ruff's safe fixes
	$(UV) run ruff format .
	$(UV) run ruff check --fix .

migrate: ensure-uv ## create the database if missing and upgrade it to the latest migration
	$(UV) run python -m cli ensure-database
	$(UV) run alembic upgrade head

migration: ensure-uv ## autogenerate a migration from the models: make migration MESSAGE="..."
	@if [ -z "$${MESSAGE//[[:space:]]/}" ]; then \
		echo 'error: MESSAGE is empty; usage: make migration MESSAGE="add listings"' >&2; \
		exit 1; \
	fi
	$(UV) run alembic revision --autogenerate -m "$$MESSAGE"

seed: ensure-uv ## create the SEED_* organization and admin (idempotent)
	$(UV) run python -m cli seed

bench: ensure-uv ## run the benchmarks (python -m bench): ratios against baselines of the same run
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; } >/dev/null
	$(UV) sync --frozen
	$(UV) run python -m bench
