# Hymy: every target bootstraps its own virtual environment (.venv) on a fresh machine.
# Needs Python 3.11+ (python3). CI runs `bash .ci/run`, which also installs system packages.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help test demo lint bench screenshots clean

help:
	@echo "make demo         run the whole system (server, kiosk screen, sync agent, demo data)"
	@echo "make test         run the test suite"
	@echo "make lint         ruff"
	@echo "make bench        every benchmark in bench/, at a size that finishes in minutes"
	@echo "make screenshots  render every kiosk screen and dashboard page into build/screenshots/"

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Hymy needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[kiosk,server,postgres,dev]"
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/hymy demo

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	@set -e; for b in bench/*.py; do grep -q '^if __name__ == "__main__":' $$b || continue; echo "== $$b"; $(BIN)/python $$b --quick; done

screenshots: $(STAMP)
	@mkdir -p build/screenshots
	@set -e; for m in kiosk.ui.screenshots server.dashboard.screenshots; do \
	  if $(BIN)/python -c "import importlib.util,sys; sys.exit(importlib.util.find_spec('$$m') is None)" 2>/dev/null; then \
	    $(BIN)/python -m $$m build/screenshots; fi; done

clean:
	rm -rf $(VENV) build .pytest_cache .hymy

# The image check for arm64 (Raspberry Pi) under qemu-user-static: slow (about ten times the amd64
# run), so not in CI. Needs root, debootstrap, qemu-user-static and binfmt-support.
.PHONY: image-check-arm64
image-check-arm64: $(STAMP)
	@command -v qemu-aarch64-static >/dev/null || { echo "apt-get install qemu-user-static binfmt-support"; exit 2; }
	HYMY_IMAGE_ARCH=arm64 image/ci-check.sh
