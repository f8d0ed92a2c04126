# Two commands do all the set-up on a fresh machine with Python >= 3.10 and pip:
#   make demo   creates .venv if needed, installs torch then skvae, runs the demo
#   make test   the same set-up, then the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed first, pinned: a bare "torch" requirement with no torch
# installed would pull a multi-GB CUDA build from PyPI. Where pip is not set up
# with a local CPU wheel, name PyTorch's index: for the CPU build
#   make demo TORCH_INDEX=https://download.pytorch.org/whl/cpu
# and for a GPU, TORCH_INDEX=https://download.pytorch.org/whl/cu126.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?=
STAMP := $(VENV)/.skvae-installed

.PHONY: demo test bench lint clean docs docs-quick

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check \
		$(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)") "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test,plot]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m skvae demo

# the suite on TEST_WORKERS processes (pytest-xdist), one compute thread each
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[bench]"
	$(BIN)/python benchmarks/bench_fit.py

docs: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[docs]"
	$(BIN)/python -m sphinx -W -b html docs docs/_build/html

# docs-quick: the gallery with tiny fits; the Sphinx build took 18 s on an idle
# two-core machine (several times that when other jobs share the cores)
docs-quick: $(STAMP)
	SKVAE_EXAMPLES_QUICK=1 $(BIN)/python -m sphinx -W -b html docs docs/_build/html

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check ruff
	$(BIN)/ruff check skvae tests benchmarks examples docs/conf.py
	$(BIN)/ruff format --check skvae tests benchmarks examples docs/conf.py

clean:
	rm -rf $(VENV) build dist *.egg-info skvae_demo.png docs/_build docs/generated \
		docs/auto_examples docs/sg_execution_times.rst

# bench-synthetic: skvae against ctgan's TVAE and CTGAN and SDV's Gaussian copula.
# SDV, ctgan and sdmetrics need pandas < 3 while the test extra installs pandas 3,
# so this benchmark has a virtual environment of its own (torch pinned first, as above).
SYNTH_VENV ?= .venv-synthetic
SYNTH_STAMP := $(SYNTH_VENV)/.skvae-installed
.PHONY: bench-synthetic

$(SYNTH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(SYNTH_VENV)
	$(SYNTH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		$(if $(TORCH_INDEX),--index-url "$(TORCH_INDEX)") "$(TORCH_SPEC)"
	$(SYNTH_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-e . ctgan sdv sdmetrics "pandas<3"
	touch $(SYNTH_STAMP)

# One torch thread for every method (BENCH_THREADS=): the figures in the README.
BENCH_THREADS ?= 1
bench-synthetic: $(SYNTH_STAMP)
	OMP_NUM_THREADS=$(BENCH_THREADS) SKVAE_NUM_THREADS=$(BENCH_THREADS) \
		$(SYNTH_VENV)/bin/python benchmarks/bench_synthetic.py $(BENCH_ARGS)
