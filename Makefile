# jaraba-ops: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
LAB    := $(PYTHON) lab/labctl.py
# Debian packages the tests use beyond the lab's own (the lab installs its own in `up`).
# chromium: tests/serve drive `jaraba-ops serve` in it (headless, through playwright).
TEST_DEBS := shellcheck socat tmux chromium

.PHONY: help deps install lab-up lab-down lab-status lab-reset lint test test-unit demo bench

help:
	@echo "make demo      set everything up and open the console on the lab"
	@echo "make test      lint, bring the lab up, run every test, bring the lab down"
	@echo "make lab-up | lab-status | lab-down | lab-reset"
	@echo "make lint | test-unit | bench"

deps:
	$(LAB) deps --also $(TEST_DEBS)

install:
	$(PYTHON) -m pip install -q --upgrade pip
	$(PYTHON) -m pip install -q -e '.[dev]'

lab-up:
	$(LAB) up

lab-down:
	$(LAB) down

lab-status:
	$(LAB) status

lab-reset:
	$(LAB) reset

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy

test-unit:
	$(PYTHON) -m pytest -m "not lab"

# Brings the lab up, runs everything with the lab required (a closed lab port fails instead
# of skipping), and brings the lab down again even when tests fail (KEEP_LAB=1 keeps it up).
test: deps install lint
	$(LAB) up
	JARABA_REQUIRE_LAB=1 $(PYTHON) -m pytest; rc=$$?; \
	  if [ "$(KEEP_LAB)" != "1" ]; then $(LAB) down; fi; exit $$rc

demo: deps install
	$(LAB) up
	jaraba-ops --profile local

# Benchmarks (measurements, not tests): `make bench BENCH_ARGS="--quick"` or "--only cost".
bench:
	$(PYTHON) bench/run.py $(BENCH_ARGS)
