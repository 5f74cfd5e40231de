# srnlab: every target sets up .venv on first use, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_ALBUMENTATIONS_UPDATE := 1
export WANDB_MODE ?= offline
export WANDB_SILENT := true

PROFILE ?= mini
DATA ?= synthetic
DATA_ROOT ?=
LAUNCHER ?= basic

.DEFAULT_GOAL := help
.PHONY: help install test test-slow lint format params data bench-data bench-model reproduce-table1 table1 wandb-sync clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project into it

test: $(STAMP) ## Run the default test suite (about 10 minutes on 2 CPU cores)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/pytest -m "not slow"

test-slow: $(STAMP) ## Run the slow tests (mini training, full smoke sweep)
	$(BIN)/pytest -m slow

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## Apply ruff formatting and fixes
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

params: $(STAMP) ## Parameter counts and GFLOPs of every Table 1 variant
	$(BIN)/srn-summary
