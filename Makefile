# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test clean

# An editable install of a flat layout makes setuptools print a notice about same-named folders
# in the working directory (its lenient editable finder, which is what we want: new modules are
# seen without reinstalling, and flows/ stays out of site-packages); the install filters it.
# The install also compiles the kernels ahead of time (setup.py; skipped, with a notice, where
# there is no C compiler).
$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

# Edited kernel sources make the installed ahead-of-time module stale (runs would then use
# numba's JIT, correct but slower to start): `dedupe warmup` rebuilds it, or else fills numba's
# cache. It also writes the package's bytecode, which Python does not where
# PYTHONDONTWRITEBYTECODE is set. Not fatal: a run compiles what it needs itself.
PACKAGE_SOURCES := $(shell find dedupe -name '*.py')
KERNELS := $(VENV)/.kernels
$(KERNELS): $(STAMP) $(PACKAGE_SOURCES)
	$(BIN)/dedupe warmup -q || echo "dedupe warmup failed: runs compile the kernels themselves"
	touch $(KERNELS)

# Prefect state stays in the project (./.prefect) unless PREFECT_HOME is set already.
run: $(KERNELS)
	PREFECT_HOME="$${PREFECT_HOME:-$(CURDIR)/.prefect}" $(BIN)/dedupe run --input raw --output parquet

# Everything, the slow tests included (plain `pytest` skips them).
test: $(KERNELS)
	$(BIN)/python -m pytest -q -m "slow or not slow"

clean:
	rm -rf $(VENV) .prefect .pytest_cache build dedupe/kernels/_aot.*.so parquet/*.parquet parquet/report.* parquet/.current parquet/.versions parquet/.lock parquet/.staging-*
