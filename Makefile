# outage-credits: `make run` and `make test` are all a newcomer needs.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
SAMPLE := data/sample
INCIDENT := $(SAMPLE)/INC-2025-01-07.toml

# Prefect's offline settings and the default paths live in flows/settings.py: Python sets them,
# and the targets below that need them outside Python read them from there.

.DEFAULT_GOAL := help
PREFECT_PORT ?= 4200

.PHONY: help run test test-fast fuzz lint bench bench-stores serve clean notebooks chromium schema

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' \
	  '{ name[NR] = $$1; text[NR] = $$2; if (length($$1) > w) w = length($$1) } \
	   END { for (i = 1; i <= NR; i++) printf "  make %-" w "s  %s\n", name[i], text[i] }'

# uv installs the pinned set (pip takes it, and uv itself, from constraints.txt) in 40 % of
# pip's time: it fetches and unpacks in parallel. It compiles every module's bytecode,
# as pip does: with PYTHONDONTWRITEBYTECODE set, no process would keep what it compiled.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c constraints.txt uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python \
	  -c constraints.txt -e '.[dev]'
	touch $@

$(INCIDENT): | $(VENV)/.installed
	$(BIN)/credits sample --out $(SAMPLE)

run: $(VENV)/.installed $(INCIDENT) ## set up, make the sample incident if absent, run the pipeline on it
	$(BIN)/credits run $(INCIDENT)

# Tests spread over the cores (pytest-xdist; an idle worker takes work from a busy one) and the
# 15 slowest are listed at the end.
PYTEST_WORKERS ?= auto
PYTEST_SPREAD := -n $(PYTEST_WORKERS) --dist worksteal

test: $(VENV)/.installed chromium ## set up and run the whole test suite
	$(BIN)/pytest $(PYTEST_SPREAD) --durations=15

test-fast: $(VENV)/.installed ## the tests that start no flow and no Prefect server (the edit-run loop)
	$(BIN)/pytest $(PYTEST_SPREAD) -m "not flow"

fuzz: $(VENV)/.installed ## the generated cases at length: thousands of incidents and profile frames (long)
	CREDITS_HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest tests/reference tests/flows/test_bad_input.py \
	  tests/transforms/quality/test_profiles_property.py --hypothesis-show-statistics -p no:cacheprovider

# The run report's browser test needs Debian's chromium: installed once, as root with apt-get.
# Without root or apt-get the test skips saying so (and fails under CI=true).
chromium:
	@command -v chromium >/dev/null || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "installing Debian's chromium for the browser test (once)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends chromium fonts-liberation >/dev/null; \
	else echo "chromium is missing and needs root and apt-get to install: the browser test skips"; fi

# The recipe reads them from its environment, quoted: a path with blanks (or quotes) is one
# argument, and an empty NB_INCIDENT reaches the runner, which says so.
NB_INCIDENT ?= INC-2025-01-07
export NB_INCIDENT NB_WAREHOUSE
notebooks: $(VENV)/.installed ## run the analysts' notebooks on the warehouse into data/output/notebooks/
	PYTHONWARNINGS=ignore $(BIN)/python -m flows.notebooks --incident "$$NB_INCIDENT" \
	  $${NB_WAREHOUSE:+--warehouse "$$NB_WAREHOUSE"} --out data/output/notebooks

serve: $(VENV)/.installed ## a local Prefect server (every credits run here uses it) serving finance's scheduled runs (Ctrl-C stops)
	@mkdir -p data/incidents
	@PREFECT_API_URL=http://127.0.0.1:$(PREFECT_PORT)/api $(BIN)/python -m flows.deployment

schema: $(VENV)/.installed ## write incident.schema.json (for editors) from the incident file's models
	$(BIN)/python -c 'from transforms.ingest import incident; print(incident.json_schema(), end="")' \
	  > incident.schema.json

lint: $(VENV)/.installed ## ruff lint and format check
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: $(VENV)/.installed ## benchmark 1 M, 10 M, 40 M log lines against DuckDB's raw scan (long)
	$(BIN)/python -m bench.run

bench-stores: $(VENV)/.installed ## a run's seal and an approval on DuckDB and on PostgreSQL (CREDITS_BENCH_PG_DSN)
	$(BIN)/python -m bench.stores

clean: ## remove the venv, generated data and run folders
	rm -rf $(SAMPLE) .pytest_cache $$(test -x $(BIN)/python && $(BIN)/python -m flows --generated)
	rm -rf $(VENV)
