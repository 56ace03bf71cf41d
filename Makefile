# dltoys: the two commands of the quick start are `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
# The test-only reference libraries of the families (the tests skip cleanly without them).
ORACLES := torch_geometric==2.8.1 minisom==2.3.6 statsmodels==0.15.0 mnist1d==0.0.2.post1 safetensors==0.8.0

.PHONY: demo test test-fast test-slow oracle bench bench-smoke bench-peers notebooks docs gallery clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The runtime install (numpy, matplotlib, tqdm, threadpoolctl, scikit-learn, networkx).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	@touch $@

# The dev environment: pytest and hypothesis, and the PyTorch oracle when a CPU
# build can be installed without a download (a local wheel, as on the project's
# machines); without it the parity tests skip. `make oracle` insists on it.
$(VENV)/.dev: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	@if $(BIN)/python -c "import torch" 2>/dev/null; then :; \
	elif $(BIN)/pip install -q --dry-run --no-index --no-deps $(TORCH) >/dev/null 2>&1; then \
	  $(BIN)/pip install -q $(TORCH); \
	else echo "note: no local $(TORCH) wheel; PyTorch parity tests will skip (make oracle installs it)"; fi
	@touch $@

## demo: set up .venv, install dltoys and run the tour of every toy (quick mode) on embedded data
demo: $(VENV)/.installed
	$(BIN)/dltoys tour
	@echo "next: source $(VENV)/bin/activate, then dltoys list (or, without activating: $(BIN)/dltoys list)"

# The tests' matrices are small: one BLAS thread is about as fast on a quiet machine and
# several times faster on a busy one (README, Speed). Tests that need more set it themselves.
TEST_ENV := OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

## test: set up the dev environment and run every test, the toys' quick-mode training runs included
test: $(VENV)/.dev
	$(TEST_ENV) $(BIN)/python -m pytest -q -m "slow or not slow" -n 2 --durations=15

## test-fast: everything but the training runs marked slow (what a bare `pytest` runs)
test-fast: $(VENV)/.dev
	$(TEST_ENV) $(BIN)/python -m pytest -q

## test-slow: only the training runs marked slow
test-slow: $(VENV)/.dev
	$(TEST_ENV) $(BIN)/python -m pytest -q -m slow

## oracle: install the PyTorch CPU build and the other reference libraries the parity tests compare against
oracle: $(VENV)/.dev
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q $(ORACLES)

## bench: dltoys vs PyTorch CPU on the reference models at 1 and 2 threads, then whole toys (--no-toys skips them); writes benchmarks/RESULTS.md
bench: oracle
	$(BIN)/python -m benchmarks.run

## bench-smoke: a few steps per model and the loss guard, two toys at a tiny size, no timing claims (fast; CI)
bench-smoke: oracle
	$(BIN)/python -m benchmarks.run --smoke

## bench-peers: numpy-ml, for its peer row in `make bench` (into benchmarks/.peers, not a dependency)
bench-peers: $(VENV)/.dev
	$(BIN)/pip install -q --no-deps --target benchmarks/.peers numpy-ml

$(VENV)/.docs: $(VENV)/.installed
	$(BIN)/pip install -q -e '.[docs]'
	@touch $@

## notebooks: run every chapter's notebook top to bottom (quick mode) into notebooks/build/*.ipynb
notebooks: $(VENV)/.docs
	$(BIN)/python notebooks/build.py

## docs: the documentation site (README, the executed notebooks, the API) -> docs/_build/html; warnings are errors
docs: notebooks
	rm -rf docs/notebooks && mkdir -p docs/notebooks && cp notebooks/build/*.ipynb docs/notebooks/
	$(BIN)/sphinx-build -E -W --keep-going -q -b html docs docs/_build/html
	@echo "open docs/_build/html/index.html"

## gallery: run the quick tour and copy one figure per family into docs/gallery (the README shows them)
gallery: $(VENV)/.installed
	$(BIN)/dltoys tour --out runs/gallery-tour || true
	$(BIN)/python docs/gallery.py runs/gallery-tour/$$(ls runs/gallery-tour | tail -n 1)

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache docs/_build docs/notebooks notebooks/build
