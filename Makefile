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
UV_VENV := .tools/uv
UV := $(UV_VENV)/bin/uv
SAM_VENV := .tools/sam
CHECKOV_VENV := .tools/checkov
FUZZ_VENV := .tools/fuzz
BENCH_VENV := .tools/bench
FUZZ_SECONDS ?= 600
SAM := $(SAM_VENV)/bin/sam
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# uv uses the Python 3.13 found above; it never downloads one of its own.
export UV_PYTHON_DOWNLOADS := never

SOURCES := image_processor csv_summarizer layers/runtime/pipeline_runtime layers/runtime/file_signatures.py \
	layers/runtime/input_rejection.py stack_model local_pipeline operations bench scripts fuzz tests

.PHONY: help
help:
	@echo "make demo        run the pipeline locally on samples/ (no Docker, no AWS account)"
	@echo "make test        lint, type-check, tests, template checks, sam build for arm64"
	@echo "make build       sam build (arm64)"
	@echo "make deploy      sam build && sam deploy --guided"
	@echo "make logs        sam logs --tail for the deployed stack"
	@echo "make backfill PREFIX=images/  S3 Batch Operations job(s) over stored objects [STACK= CREATED_BEFORE=]"
	@echo "make lock        re-compile every hash-locked requirements.txt from its requirements.in"
	@echo "make lock-check  fail if an input changed and its lock was not re-compiled"
	@echo "make bench       benchmarks against baselines (bench/RESULTS.md)"
	@echo "make fuzz        long fuzzing runs (FUZZ_SECONDS=600 each); see docs/RELIABILITY.md"
	@echo "make reliability full-size fault, duplicate and load runs (~10 min)"

# ---------------------------------------------------------------- environments
# Every environment installs exactly its hash-locked lock (see `make lock`). pip bootstraps
# uv from requirements/uv.txt; uv then creates and syncs each venv, checking every hash.
$(UV_VENV)/.installed: requirements/uv.txt
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found: install it (python3.13 on PATH, or pyenv install 3.13)"; exit 1; }
	rm -rf $(UV_VENV)
	$(PYTHON_313) -m venv $(UV_VENV)
	$(UV_VENV)/bin/python -m pip install --quiet --require-hashes --no-deps -r requirements/uv.txt
	touch $@

# $(call locked_venv,VENV,LOCK): the rule that makes VENV hold exactly LOCK.
define locked_venv
$(1)/.installed: $(2) $(UV_VENV)/.installed
	@test -n "$(PYTHON_313)" || { echo "Python 3.13 not found: install it (python3.13 on PATH, or pyenv install 3.13)"; exit 1; }
	$(UV) venv --quiet --allow-existing --python "$(PYTHON_313)" $(1)
	$(UV) pip sync --quiet --require-hashes --compile-bytecode --python $(1)/bin/python $(2)
	touch $$@
endef

$(eval $(call locked_venv,$(VENV),requirements/dev.txt))
# aws-sam-cli and checkov pin conflicting boto3 versions: each gets its own venv.
$(eval $(call locked_venv,$(SAM_VENV),requirements/sam.txt))
$(eval $(call locked_venv,$(CHECKOV_VENV),requirements/checkov.txt))
# atheris (coverage-guided fuzzing) only for the long fuzz runs, never for make test.
$(eval $(call locked_venv,$(FUZZ_VENV),requirements/fuzz.txt))
$(eval $(call locked_venv,$(BENCH_VENV),requirements/bench.txt))

.PHONY: venv
venv: $(VENV)/.installed

# ---------------------------------------------------------------- checks
.PHONY: test lock lock-check lint typecheck pytest validate checkov build build-check
test: lock-check lint typecheck pytest validate checkov build-check
	@echo "make test: all checks passed"

# Re-compile every lock from its input, keeping the pins that still satisfy it
# (UPGRADE=1 moves every pin to the newest release). Commit the inputs and the locks together.
lock: $(UV_VENV)/.installed
	$(UV_VENV)/bin/python scripts/locks.py compile $(if $(UPGRADE),--upgrade)

# Reads the package index: the pins of a fresh compile, preferring the current ones, must
# equal the lock's. A new release upstream never fails it; an edited input with a stale lock does.
lock-check: $(UV_VENV)/.installed
	$(UV_VENV)/bin/python scripts/locks.py check

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)

# Each function is type-checked on its own: both have an app.py, as Lambda expects.
typecheck: $(VENV)/.installed
	MYPYPATH=layers/runtime $(VENV)/bin/mypy layers/runtime/pipeline_runtime layers/runtime/file_signatures.py \
		layers/runtime/input_rejection.py stack_model local_pipeline operations
	MYPYPATH=layers/runtime $(VENV)/bin/mypy image_processor
	MYPYPATH=layers/runtime $(VENV)/bin/mypy csv_summarizer

pytest: $(VENV)/.installed $(UV_VENV)/.installed browser
	$(PY) -m pytest --ignore=tests/build

# The results page is tested in a real headless browser (tests/e2e/test_results_page.py):
# Chromium and its WebDriver. As root on Debian/Ubuntu (CI) they are installed when missing.
.PHONY: browser
browser:
	@if ! { command -v chromium || command -v google-chrome; } >/dev/null || ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium and chromium-driver for the results-page test"; \
			apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
				|| { apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; }; \
		else \
			echo "the results-page test needs Chromium and chromedriver: sudo apt-get install chromium chromium-driver"; \
			exit 1; \
		fi; \
	fi

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

# One S3 Batch Operations job per S3 filter of the template that PREFIX reaches (README,
# "Backfill a bucket of any size"). STACK defaults to samconfig.toml's default stack name.
.PHONY: backfill
backfill: $(VENV)/.installed
	$(PY) -m operations backfill --prefix "$(PREFIX)" $(if $(STACK),--stack "$(STACK)") \
		$(if $(CREATED_BEFORE),--created-before "$(CREATED_BEFORE)")

# ---------------------------------------------------------------- local pipeline
.PHONY: demo
demo: $(VENV)/.installed
	bin/local-pipeline run samples --out out --report out/report.json

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
bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/bench_images.py
	$(BENCH_VENV)/bin/python bench/bench_csv.py
	$(BENCH_VENV)/bin/python bench/cold_start.py

bench-quick: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/bench_images.py --quick
	$(BENCH_VENV)/bin/python bench/bench_csv.py --quick

.PHONY: clean
clean:
	rm -rf .aws-sam out .pytest_cache .mypy_cache .ruff_cache
