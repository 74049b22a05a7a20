# `make run` serves the chat over the bundled samples; `make test` runs every check.
# Both set up everything they need on a fresh machine (a venv in .venv, Debian chromium for tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup run test lint chromium bench samples

$(STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

run: setup
	$(PY) app.py serve

chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# pytest exits 5 when it collects nothing; that is not a failure of the suite.
test: setup chromium lint
	$(PY) -m pytest; rc=$$?; [ $$rc -eq 5 ] && echo "pytest: no tests collected" && rc=0; exit $$rc

bench: setup
	$(PY) bench/latency.py

samples: setup
	$(PY) scripts/make_samples.py
