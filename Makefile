# Two commands do everything on a fresh clone: `make generate` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: generate test e2e check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

generate: $(STAMP)
	$(BIN)/ccb-observe generate

test: $(STAMP)
	$(BIN)/pytest -q

# The generated stack end to end: demo service -> Prometheus -> Alertmanager -> sink (in `test` too).
e2e: $(STAMP)
	$(BIN)/pytest -q tests/e2e

# The CI gate: generated/ is fresh and passes promtool, amtool, the dashboard, fluentd and
# logrotate checks and the PromQL lint. FORMAT=github for Actions annotations.
check: $(STAMP)
	$(BIN)/ccb-observe check --format $(or $(FORMAT),text)

# Benchmarks, one run side by side (about 10-20 minutes on 2 cores): writes docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .pytest_cache
