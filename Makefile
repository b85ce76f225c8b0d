# Two entry points for a fresh Linux machine (Python >= 3.11, make, Node.js with npm):
#   make serve   set up, then serve the site at http://127.0.0.1:8000
#   make test    set up, then run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The browser tests drive this Chromium; on Debian/Ubuntu `make setup` installs it with apt.
CHROMIUM ?= /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# Optional: a PyTorch wheel index, e.g. https://download.pytorch.org/whl/cpu or .../whl/cu128
TORCH_INDEX ?=
export NO_MKDOCS_2_WARNING := 1

.PHONY: site-setup setup serve build test benchmark clean

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
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium

serve: site-setup
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

build: site-setup
	$(BIN)/mkdocs build --strict

# DEVICE=cpu hides every accelerator; ARGS passes anything else to pytest (e.g. ARGS="-k adam").
test: setup
	NOTES_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -n auto --dist load $(if $(filter cpu,$(DEVICE)),--cpu) $(ARGS)

# Times every from-scratch implementation against PyTorch's own on this machine's best device
# (DEVICE=cpu for the CPU) and records the table in benchmarks/results/<device>.md for the pages.
benchmark: site-setup
	$(BIN)/python -m benchmarks --save $(if $(filter cpu,$(DEVICE)),--cpu) $(ARGS)

clean:
	rm -rf site .pytest_cache
