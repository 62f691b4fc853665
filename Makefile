# Every target creates what it needs on first use: only Python 3.13, make and git are assumed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.13: python3.13 on PATH if it runs, else python3 if it is 3.13, else pyenv's 3.13.
PYTHON_313 ?= $(shell \
	for c in python3.13 python3; do \
		$$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' >/dev/null 2>&1 \
			&& { command -v $$c; exit 0; }; \
	done; \
	p=$$(pyenv prefix 3.13 2>/dev/null | head -n1) && [ -x "$$p/bin/python3.13" ] && echo "$$p/bin/python3.13")

VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .tools/sam
CHECKOV_VENV := .tools/checkov
FUZZ_VENV := .tools/fuzz
FUZZ_SECONDS ?= 600
SAM := $(SAM_VENV)/bin/sam
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

SOURCES := image_processor csv_summarizer layers/runtime/pipeline_runtime local_pipeline bench scripts fuzz tests

.PHONY: help
help:
	@echo "make demo    run the pipeline locally on samples/ (no Docker, no AWS account)"
	@echo "make test    lint, type-check, tests, template checks, sam build for arm64"
	@echo "make build   sam build (arm64)"
	@echo "make deploy  sam build && sam deploy --guided"
	@echo "make logs    sam logs --tail for the deployed stack"
	@echo "make bench   benchmarks against baselines (bench/RESULTS.md)"
	@echo "make fuzz    long fuzzing runs (FUZZ_SECONDS=600 each); see docs/RELIABILITY.md"
	@echo "make reliability  full-size fault, duplicate and load runs (~10 min)"

# ---------------------------------------------------------------- environments
$(VENV)/.installed: requirements/dev.txt layers/runtime/requirements.txt layers/pillow/requirements.txt layers/pyarrow/requirements.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found: install it (python3.13 on PATH, or pyenv install 3.13)"; exit 1; }
	$(PYTHON_313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $@

# aws-sam-cli and checkov pin conflicting boto3 versions: each gets its own venv.
$(SAM_VENV)/.installed: requirements/sam.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found"; exit 1; }
	$(PYTHON_313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet -r requirements/sam.txt
	touch $@

$(CHECKOV_VENV)/.installed: requirements/checkov.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found"; exit 1; }
	$(PYTHON_313) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.txt
	touch $@

# atheris (coverage-guided fuzzing) only for the long fuzz runs, never for make test.
$(FUZZ_VENV)/.installed: requirements/fuzz.txt layers/pillow/requirements.txt layers/pyarrow/requirements.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found"; exit 1; }
	$(PYTHON_313) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/python -m pip install --quiet -r requirements/fuzz.txt
	touch $@

.PHONY: venv
venv: $(VENV)/.installed

# ---------------------------------------------------------------- checks
.PHONY: test lint typecheck pytest validate checkov build build-check
test: lint typecheck pytest validate checkov build-check
	@echo "make test: all checks passed"

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)

# Each function is type-checked on its own: both have an app.py, as Lambda expects.
typecheck: $(VENV)/.installed
	MYPYPATH=layers/runtime $(VENV)/bin/mypy layers/runtime/pipeline_runtime local_pipeline
	MYPYPATH=layers/runtime $(VENV)/bin/mypy image_processor
	MYPYPATH=layers/runtime $(VENV)/bin/mypy csv_summarizer

pytest: $(VENV)/.installed
	$(PY) -m pytest --ignore=tests/build

validate: $(SAM_VENV)/.installed
	$(SAM) validate --lint

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov --skip-download --quiet --compact \
		--framework cloudformation -f template.yaml

# sam build needs python3.13 on PATH for the python3.13 runtime: the tool venv has it.
build: $(SAM_VENV)/.installed
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(SAM) build

build-check: build $(VENV)/.installed
	$(PY) -m pytest tests/build

# ---------------------------------------------------------------- operate
.PHONY: deploy logs
deploy: build
	$(SAM) deploy --guided

logs: $(SAM_VENV)/.installed
	$(SAM) logs --tail

# ---------------------------------------------------------------- local pipeline
.PHONY: demo
demo: $(VENV)/.installed
	$(PY) -m local_pipeline run samples --out out --report out/report.json

# ---------------------------------------------------------------- longer proofs (not in make test)
.PHONY: fuzz fuzz-image fuzz-csv fuzz-props
fuzz: fuzz-image fuzz-csv fuzz-props

fuzz-image: $(FUZZ_VENV)/.installed
	$(FUZZ_VENV)/bin/python fuzz/run.py image --seconds $(FUZZ_SECONDS)

fuzz-csv: $(FUZZ_VENV)/.installed
	$(FUZZ_VENV)/bin/python fuzz/run.py csv --seconds $(FUZZ_SECONDS)

fuzz-props: $(VENV)/.installed
	HYPOTHESIS_PROFILE=long $(PY) -m pytest tests/fuzz -q --hypothesis-show-statistics

.PHONY: reliability reliability-faults reliability-load
reliability: $(VENV)/.installed
	RELIABILITY_SCALE=full RELIABILITY_OUT=out/reliability $(PY) -m pytest tests/reliability -s -rxX

reliability-faults: $(VENV)/.installed
	RELIABILITY_SCALE=full RELIABILITY_OUT=out/reliability $(PY) -m pytest tests/reliability/test_faults.py -s

reliability-load: $(VENV)/.installed
	RELIABILITY_SCALE=full RELIABILITY_OUT=out/reliability $(PY) -m pytest tests/reliability/test_load.py -s

# ---------------------------------------------------------------- benchmarks
.PHONY: bench bench-quick
$(VENV)/.bench-installed: requirements/bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements/bench.txt
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) bench/bench_images.py
	$(PY) bench/bench_csv.py
	$(PY) bench/cold_start.py

bench-quick: $(VENV)/.bench-installed
	$(PY) bench/bench_images.py --quick
	$(PY) bench/bench_csv.py --quick

.PHONY: clean
clean:
	rm -rf .aws-sam out .pytest_cache .mypy_cache .ruff_cache
