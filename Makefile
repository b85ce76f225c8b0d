# Two entry points for a fresh Linux machine (Python >= 3.11, make, Node.js with npm):
#   make serve   set up, then serve the site at http://127.0.0.1:8000
#   make test    set up, then run the whole test suite
# For contributors: make new CONCEPT=dropout SECTION=training, make check PAGE=docs/training/dropout.md
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The browser tests drive this Chromium (its headless shell: the same engine, no user interface);
# on Debian `make setup` installs it with apt.
CHROMIUM ?= /usr/bin/chromium-headless-shell
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Optional: a PyTorch wheel index, e.g. https://download.pytorch.org/whl/cpu or .../whl/cu128
TORCH_INDEX ?=
export NO_MKDOCS_2_WARNING := 1

.PHONY: site-setup setup serve build test check new benchmark matrix matrix-one mutate clean

site-setup: $(VENV)/.installed node_modules/.installed
setup: site-setup $(CHROMIUM)

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet torch --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell

serve: site-setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: site-setup
	$(BIN)/mkdocs build --strict

# DEVICE=cpu hides every accelerator; ARGS passes anything else to pytest (e.g. ARGS="-k adam").
# --maxschedchunk 1: tests go to whichever worker is free, one at a time, so both finish together.
test: setup
	NOTES_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n auto --dist load --maxschedchunk 1 $(if $(filter cpu,$(DEVICE)),--cpu) $(ARGS)

# One page end to end, e.g. PAGE=docs/tensors/where.md: its blocks and check-yourself answers, each
# snippet it includes run alone, every test of the built site (one strict build) and its browser visit.
check: setup
	@test -f "$(PAGE)" || { echo "usage: make check PAGE=docs/<section>/<concept>.md"; exit 2; }
	NOTES_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -p no:cacheprovider $(if $(filter cpu,$(DEVICE)),--cpu) --page $(PAGE) \
	    tests/test_pages.py tests/test_snippets.py tests/test_site.py tests/test_browser.py $(ARGS)

# A new concept page and its snippet (machinery/scaffold.py), passing the page's checks at once, in nav:
#   make new CONCEPT=dropout SECTION=training [TITLE="Dropout"]
new: site-setup
	@test -n "$(CONCEPT)" -a -n "$(SECTION)" || { echo "usage: make new CONCEPT=<name-with-hyphens> SECTION=<docs folder>"; exit 2; }
	$(BIN)/python -m machinery.scaffold $(CONCEPT) $(SECTION) $(if $(TITLE),--title "$(TITLE)")

# Times every from-scratch implementation against PyTorch's own on this machine's best device
# (DEVICE=cpu for the CPU) and records the result in benchmarks/results/<device>.json, which the pages render.
benchmark: site-setup
	$(BIN)/python -m benchmarks --save $(if $(filter cpu,$(DEVICE)),--cpu) $(ARGS)

# The supported torch range, tested: pages, snippets and notebooks in one virtual environment per torch
# version (.matrix/torch-<version>/), CUDA hidden unless DEVICE=cuda, each passing run recorded in
# verified/ (the "verified on" line under every title; the suite fails when a record is older than
# the code). 2.7.0 is the floor in pyproject.toml, 2.13.0 the CPU wheel CI uses, and `newest` whatever
# pip installs today. Versions other than 2.13.0 come from PyPI as CUDA builds (several GB each).
MATRIX ?= 2.7.0 2.13.0 newest
MATRIX_TESTS := tests/test_pages.py tests/test_snippets.py tests/test_notebooks.py
RECORD ?= --record-verified

matrix: site-setup
	@set -e; for version in $(MATRIX); do $(MAKE) --no-print-directory matrix-one TORCH=$$version; done

matrix-one:
	test -x .matrix/torch-$(TORCH)/bin/python || $(PYTHON) -m venv .matrix/torch-$(TORCH)
	.matrix/torch-$(TORCH)/bin/python -m pip install --quiet --upgrade pip
	.matrix/torch-$(TORCH)/bin/python -m pip install --quiet $(if $(filter newest,$(TORCH)),--upgrade torch,torch==$(TORCH))
	.matrix/torch-$(TORCH)/bin/python -m pip install --quiet -e ".[test]"
	.matrix/torch-$(TORCH)/bin/pytest $(MATRIX_TESTS) -n auto -p no:cacheprovider $(if $(filter cuda,$(DEVICE)),,--cpu) $(RECORD) $(ARGS)

# Plants small faults in every snippet's computing code (or ONLY=adam,rmsprop) and reports how many its
# checks catch; writes mutation/report.json, which the suite holds to the targets.
mutate: site-setup
	$(BIN)/python -m mutation $(if $(ONLY),--only $(ONLY)) $(ARGS)

clean:
	rm -rf site .pytest_cache
