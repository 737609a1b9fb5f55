# Two commands on a fresh machine: `make run` and `make test`. Both set up first when needed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export GX_ANALYTICS_ENABLED := false
export DAGSTER_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1

DBT_FILES := $(shell find dbt/models dbt/seeds dbt/macros dbt/tests -type f 2>/dev/null) dbt/dbt_project.yml dbt/profiles.yml

.PHONY: help setup setup-spark run run-spark test test-slow check format dev docs clean

help:
	@echo "make run    set up if needed, then ingest, validate, build and publish the samples"
	@echo "make run-spark   the same with the warehouse built on Spark (local mode; Java 17)"
	@echo "make test   set up if needed, then run the test suite"
	@echo "make check  lint and format checks (ruff, sqlfluff)"
	@echo "make dev    open the Dagster UI on http://127.0.0.1:3000"
	@echo "make bench  benchmarks (docs/benchmarks.md)"
	@echo "make samples / make fixtures   regenerate data/samples, tests/fixtures (tools/)"

# The Spark group (pyspark, dbt-spark) stays installed once `make setup-spark` has added it.
$(BIN)/.installed: pyproject.toml uv.lock
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(PYTHON) -m uv sync --frozen --compile-bytecode $(if $(wildcard $(BIN)/.installed-spark),--group spark)
	@touch $@

# The scale-out engine (README "Past one machine"): Java 17 and the optional `spark` group.
$(BIN)/.installed-spark: $(BIN)/.installed pyproject.toml uv.lock
	@command -v java >/dev/null 2>&1 || { echo "Spark needs Java 17: apt-get install -y openjdk-17-jre-headless"; exit 1; }
	$(PYTHON) -m uv sync --frozen --compile-bytecode --group spark
	@touch $@ $(BIN)/.installed

setup-spark: setup $(BIN)/.installed-spark

$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp deploy/dagster.yaml $@

# The manifest Dagster builds the asset graph from; parsed here so code-location load never parses.
dbt/target/manifest.json: $(BIN)/.installed $(DBT_FILES)
	$(BIN)/python -m dagster_project.warehouse.prepare

setup: $(BIN)/.installed $(DAGSTER_HOME)/dagster.yaml dbt/target/manifest.json

run: setup
	$(BIN)/python -m dagster_project.run

# The same job with the warehouse built on Spark (local mode), published to the same serving file.
run-spark: setup-spark dbt/target-spark/manifest.json
	REE_ENGINE=spark $(BIN)/python -m dagster_project.run

dbt/target-spark/manifest.json: $(BIN)/.installed $(DBT_FILES)
	REE_ENGINE=spark $(BIN)/python -m dagster_project.warehouse.prepare

# Two pytest workers (pytest-xdist): the suite is dominated by dbt builds and Dagster runs, one
# core each. Fast tests are grouped by file (a file's module fixtures are built once); the slow
# tests are independent and spread one by one. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

test: setup
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# The slow tests include the Spark build compared with DuckDB's (tests/test_spark.py).
test-slow: setup-spark
	$(BIN)/pytest -m slow -n $(TEST_WORKERS) --dist load

check: setup
	$(BIN)/ruff check dagster_project tests tools
	$(BIN)/ruff format --check dagster_project tests tools
	$(BIN)/python -m dagster_project.warehouse.prepare --lint

format: setup
	$(BIN)/ruff format dagster_project tests tools
	$(BIN)/ruff check --fix dagster_project tests tools

dev: setup
	$(BIN)/dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000

docs: setup
	$(BIN)/python -m dagster_project.warehouse.prepare --docs

clean:
	rm -rf $(VENV) dbt/target dbt/logs .dagster_home

# Benchmarks (not part of test or CI): writes tools/bench/results/latest.json; see docs/benchmarks.md.
.PHONY: bench samples fixtures
bench: setup
	$(BIN)/python tools/bench/run.py

# Regenerate the committed inputs (deterministic: an unchanged generator gives the same bytes,
# so `git diff --stat data/samples tests/fixtures` after these shows what a change did).
samples: setup
	$(BIN)/python tools/samples/make_samples.py
	$(BIN)/python tools/samples/make_census_sample.py
	$(BIN)/python tools/samples/make_gacc_sample.py
	$(BIN)/python tools/samples/make_usgs_sample.py

fixtures: setup
	$(BIN)/python tools/fixtures/gacc.py
	$(BIN)/python tools/fixtures/hostile.py
