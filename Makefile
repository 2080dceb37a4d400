# choreogen: the two commands are `make demo` and `make test` (both set up .venv on first use).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Optional package index for torch, e.g. TORCH_INDEX=https://download.pytorch.org/whl/cpu for the small
# CPU-only wheel on Linux (the default index serves a multi-GB CUDA build there). Unset: the default index.
TORCH_INDEX ?=

.PHONY: demo test venv clean bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: a local CPU wheel here; never let a dependency pull a CUDA build
	$(BIN)/python -m pip install -q torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install -q -e ".[test,video]"
	touch $(STAMP)

venv: $(STAMP)

# Main job: a dance for the bundled example song with the bundled default model.
demo: $(STAMP)
	$(BIN)/choreogen demo --out out/demo

test: $(STAMP)
	$(BIN)/ruff check choreogen tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -n 2 --dist loadfile tests

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf out .pytest_cache
