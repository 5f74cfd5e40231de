# srnlab: every target sets up .venv on first use, so a fresh clone needs only Python 3.11 and make.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NO_ALBUMENTATIONS_UPDATE := 1
export WANDB_MODE ?= offline
export WANDB_SILENT := true

PROFILE ?= proxy_residual
DATA ?= synthetic
DATA_ROOT ?=
LAUNCHER ?= basic

.DEFAULT_GOAL := help
.PHONY: help install test test-slow lint format params data bench-data bench-model learning-budget proxy-fidelity pretrained gpu-check gpu-check-dry-run reproduce-table1 table1 wandb-sync wandb-dashboard clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the project into it

test: $(STAMP) ## Lint and run the default test suite (8-10 minutes on the 2-core AMX Xeon, measured idle; 10 with its libraries held to AVX2)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest -m "not slow"

test-slow: $(STAMP) ## Run the slow tests (mini training, full smoke sweep)
	$(BIN)/pytest -m slow

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP) ## Apply ruff formatting and fixes
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

params: $(STAMP) ## Parameter counts and GFLOPs of every Table 1 variant, srn_full and the release models
	$(BIN)/srn-summary

data: $(STAMP) ## Synthesise the default blurry/sharp set into data/synthetic
	$(BIN)/srn-synth --out $${SRN_DATA_DIR:-data}/synthetic

bench-data: $(STAMP) ## Loader throughput (pairs/s), and training steps/s with the DataModule vs batches in memory
	$(BIN)/python benchmarks/bench_data.py
	$(BIN)/python benchmarks/bench_loader.py --profiles mini gpu --workers 0 1 2

bench-model: $(STAMP) ## SR-EDRB3 720p forward and training step: fp32 NCHW vs the fast path, against the matmul ceilings
	$(BIN)/python benchmarks/bench_model.py $(ARGS)

learning-budget: $(STAMP) ## SR-EDRB3 validation PSNR against training compute for several recipes (docs/learning-budget.md)
	$(BIN)/python -m srnlab.studies.learning_budget $(ARGS)

proxy-fidelity: $(STAMP) ## The proxy study (docs/proxy-fidelity.md): train its arms (hours, resumable), keep their small files, write the report
	$(BIN)/python -m srnlab.studies.proxy_fidelity train --log-dir $(LOG_DIR) $(ARGS)
	$(BIN)/python -m srnlab.studies.proxy_fidelity report --log-dir $(LOG_DIR)

pretrained: $(STAMP) ## Train the shipped SR-EDRB3 in its 3 stages (about 2 hours on 2 CPU cores, resumable), export it into the package, score it
	$(BIN)/srn-train experiment=pretrained_stage1 hydra.run.dir=$(LOG_DIR)/pretrained-stage1 test=false
	$(BIN)/srn-train experiment=pretrained_stage2 hydra.run.dir=$(LOG_DIR)/pretrained-stage2 test=false \
		init_weights=$(LOG_DIR)/pretrained-stage1/checkpoints/last.ckpt
	$(BIN)/srn-train experiment=pretrained hydra.run.dir=$(LOG_DIR)/pretrained test=false \
		init_weights=$(LOG_DIR)/pretrained-stage2/checkpoints/last.ckpt
	$(BIN)/srn-export $(LOG_DIR)/pretrained/checkpoints/last.ckpt --out src/srnlab/pretrained/sr_edrb3_synthetic.safetensors
	$(BIN)/python -m srnlab.studies.pretrained_card --run $(LOG_DIR)/pretrained-stage1 $(LOG_DIR)/pretrained-stage2 $(LOG_DIR)/pretrained

gpu-check: $(STAMP) ## GPU evidence of the speed work (about 10 min on one H100), written to ablations/results/gpu-check/
	PY=$(BIN)/python bash benchmarks/gpu_check.sh

gpu-check-dry-run: $(STAMP) ## The gpu-check script on the CPU at smoke size (results in logs/gpu-check-dry-run/)
	PY=$(BIN)/python GPU_CHECK_DRY_RUN=1 GPU_CHECK_OUT=$(LOG_DIR)/gpu-check-dry-run/results \
		GPU_CHECK_WORK=$(LOG_DIR)/gpu-check-dry-run bash benchmarks/gpu_check.sh

LOG_DIR ?= logs
RESULTS ?=
SEEDS ?= 1
SWEEP = profile=$(PROFILE) data=$(DATA) paths.log_dir=$(LOG_DIR)

reproduce-table1: $(STAMP) ## Train the 10 Table 1 variants with seeds 1..SEEDS (PROFILE=proxy_residual|mini|smoke|gpu|paper DATA=synthetic|gopro DATA_ROOT= SEEDS=1 LAUNCHER=basic|joblib|submitit_slurm) and write the table
	$(BIN)/srn-train --config-name table1 $(SWEEP) seed=$(shell seq -s, 1 $(SEEDS)) $(if $(DATA_ROOT),data.root=$(DATA_ROOT)) hydra/launcher=$(LAUNCHER) $(ARGS)
	$(BIN)/srn-table1 $(SWEEP) $(if $(RESULTS),--out $(RESULTS))

table1: $(STAMP) ## Rebuild the table and plots from an existing sweep (same variables as reproduce-table1)
	$(BIN)/srn-table1 $(SWEEP) $(if $(RESULTS),--out $(RESULTS))

wandb-sync: $(STAMP) ## Upload every offline W&B run under logs/ and ablations/ (needs a network and `wandb login`)
	find $(LOG_DIR) ablations -type d -name 'offline-run-*' -print0 | xargs -0 -r $(BIN)/wandb sync

wandb-dashboard: $(STAMP) ## A sweep's W&B workspace and report (variables as table1): the spec, into its results folder; WANDB_MODE=online publishes
	$(BIN)/srn-dashboard $(SWEEP) $(if $(RESULTS),--results $(RESULTS))

clean: ## Remove generated data and logs (keeps .venv and committed results)
	rm -rf data logs outputs multirun
