# The two newcomer commands are `make demo` (install, then train on real data and write
# pictures and figures) and `make test` (install, then run the test suite).
# Everything installs into .venv; the Fashion-MNIST data comes from Debian's package.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: install data demo test test-all gradcheck bench lint clean

install: $(STAMP)

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

data: $(FASHION_MNIST)

$(FASHION_MNIST):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq dataset-fashion-mnist

demo: install data
	$(BIN)/scratchgan gradcheck all

test: install
	$(BIN)/python -m pytest -q

test-all: install data
	$(BIN)/python -m pytest -q -m ""

gradcheck: install
	$(BIN)/scratchgan gradcheck all

bench: install
	$(BIN)/python benchmarks/mlp.py

lint: install
	$(BIN)/ruff check scratchgan tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
