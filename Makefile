# The two newcomer commands are `make demo` (install, then train on real data and write
# pictures and figures) and `make test` (install, then run the test suite).
# Everything installs into .venv; the Fashion-MNIST data comes from Debian's package.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.runtime-installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: install graphviz chromium data toolchain demo test test-all gradcheck bench lint clean notebooks

install: $(STAMP) graphviz

# Graphviz's dot lays out the pages of sg.viz.graph and `scratchgan graph`
graphviz:
	@command -v dot >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq graphviz; }

# headless Chromium: the tests look at the graph and report pages as a person would (CI runs this)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; }

# the package and its runtime dependencies only (numpy, matplotlib, pillow, ...): all the demo needs
$(RUNTIME_STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(RUNTIME_STAMP)

# everything the tests, notebooks and benchmarks need on top (torch, tensorboard, jupyter: large)
$(STAMP): $(RUNTIME_STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

data: $(FASHION_MNIST)

$(FASHION_MNIST):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq dataset-fashion-mnist

# The main job: the DCGAN and the stacked autoencoder of Hands-On ML ch. 17, trained on
# Fashion-MNIST; pictures and curves land in runs/demo-*. The DCGAN stops after 1,000 steps (0.6
# of an epoch), where its garments are recognisable; the chapter's MLP GAN would be faster, but
# its grid is speckled with pixel noise for many epochs. It installs only the runtime
# dependencies, so that install and training fit in 10 minutes on 2 CPU cores.
demo: data $(RUNTIME_STAMP)
	$(BIN)/scratchgan train dcgan --max-steps 1000 --out runs/demo-dcgan
	$(BIN)/scratchgan sample runs/demo-dcgan --n 100 --out runs/demo-dcgan/samples-final.png
	$(BIN)/scratchgan train stacked-ae --epochs 5 --out runs/demo-stacked-ae
	@echo "The DCGAN's samples: runs/demo-dcgan/samples-final.png (10 x 10, fresh codes)"
	@echo "Pictures and figures: runs/demo-dcgan/samples/ runs/demo-dcgan/loss.png runs/demo-stacked-ae/samples/ runs/demo-stacked-ae/loss.png"

# the kernel-emulation tests compile kernels/*.cu for the CPU with g++
toolchain:
	@command -v g++ >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq g++; }

# the multi-process tests (pytest -m mpi) need mpi4py and MPICH's mpiexec: the mpi extra
MPI_STAMP := $(VENV)/.mpi-installed

$(MPI_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[mpi]'
	touch $(MPI_STAMP)

test: install toolchain $(MPI_STAMP)
	$(BIN)/python -m pytest -q

test-all: install data
	$(BIN)/python -m pytest -q -m ""

gradcheck: install
	$(BIN)/scratchgan gradcheck all

bench: install
	$(BIN)/python benchmarks/mlp.py

# re-execute docs/notebooks/*.ipynb top to bottom and store their outputs (about 10 minutes)
notebooks: install toolchain
	$(BIN)/python scripts/run_notebooks.py

# ruff.toml holds the rules (line length 100, import order, unused names, bugbear)
lint: install
	$(BIN)/ruff check scratchgan tests benchmarks scripts

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
