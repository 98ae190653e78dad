# `make run` and `make test` do their own set-up: a .venv with the project installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/clusterlabel serve

test: $(STAMP)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .clusterlabel .pytest_cache
