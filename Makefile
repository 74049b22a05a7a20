# `make run` serves the chat over the bundled samples; `make test` runs every check.
# Both set up everything they need on a fresh machine (a venv in .venv, Debian chromium for tests).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup tesseract run test test-fast lint chromium postgresql bench samples screenshots llama test-llama test-llm eval-llm

$(STAMP): requirements.txt requirements-dev.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -c 'from index.embeddings import *; resolve_model(BUNDLED_MODEL, DEFAULT_CACHE)'
	touch $(STAMP)

setup: $(STAMP) tesseract

# OCR of scanned PDFs and images (Debian's Tesseract with its English model).
tesseract:
	@command -v tesseract >/dev/null || ($(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng)

# The demo: the bundled samples are indexed on first start (a deployment leaves this unset).
run: setup
	DOCENT_SAMPLES_DIR=samples $(PY) app.py serve

# Chromium for the browser tests, and an emoji font for the screenshots' buttons.
chromium:
	@(command -v chromium && [ -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ]) >/dev/null || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium fonts-noto-color-emoji)

# PostgreSQL for the tests of shared state (they start their own server in a temp dir).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq postgresql)

lint: setup
	$(PY) -m ruff check .
	$(PY) -m mypy

# pytest exits 5 when it collects nothing; that is not a failure of the suite.
test: setup chromium postgresql lint
	$(PY) -m pytest; rc=$$?; [ $$rc -eq 5 ] && echo "pytest: no tests collected" && rc=0; exit $$rc

# The inner loop: no browser, no app.py subprocesses.
test-fast: setup
	$(PY) -m pytest -m 'not browser and not slow'

# Regenerate the README's screenshots (browser tests write them to docs/ only here).
screenshots: setup chromium
	DOCENT_UPDATE_SCREENSHOTS=1 $(PY) -m pytest -m browser

bench: setup
	$(PY) bench/latency.py
	$(PY) bench/ingest.py
	$(PY) bench/scale.py
	$(PY) bench/load.py
	$(PY) bench/formats.py

samples: setup
	$(PY) scripts/make_samples.py

# Optional local LLM (DOCENT_GENERATOR=llamacpp): builds llama-cpp-python once (~4-6 min on
# 2 cores) without the AMX int8 kernels that crash on these CPUs, and fetches a 491 MB model.
LLAMA_STAMP := $(VENV)/.llama-installed
LLAMA_MODEL := .models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF

$(LLAMA_STAMP): requirements-llama.txt | $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PY) -m pip install -q --no-cache-dir \
		--no-binary llama-cpp-python -r requirements-llama.txt
	touch $(LLAMA_STAMP)

$(LLAMA_MODEL): | $(STAMP)
	$(PY) scripts/fetch_gguf.py --out $(LLAMA_MODEL)

llama: $(LLAMA_STAMP) $(LLAMA_MODEL)

test-llama: llama
	DOCENT_LLAMACPP_MODEL_PATH=$(LLAMA_MODEL) $(PY) -m pytest --llama -m llama

# The API, OpenAI-endpoint and follow-up tests with DOCENT_GENERATOR=openai against llama.cpp's
# OpenAI-compatible server, which the tests start on loopback with the GGUF (tests/llm).
test-llm: llama
	DOCENT_LLAMACPP_MODEL_PATH=$(LLAMA_MODEL) $(PY) -m pytest --llm -m llm

# The LLM path measured beside the extractive one on the same questions and index: the SQuAD
# sample's test half and the multi-turn set (~45 min with the 0.5B model on 2 cores).
# `make eval-llm LLAMA_MODEL=.models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf` measures the 1.5B
# model (`python scripts/fetch_gguf.py --model qwen2.5-coder-1.5b` fetches it).
EVAL_OUT := .docent/eval
EVAL_SETS := ../shared/eval
EVAL_LLM := DOCENT_LLAMACPP_MODEL_PATH=$(LLAMA_MODEL) $(PY) app.py eval --generators extractive,llamacpp
eval-llm: llama
	$(EVAL_LLM) --squad $(EVAL_SETS)/squad2 --half test --systems hybrid --out $(EVAL_OUT)/llm-squad.json
	$(EVAL_LLM) --dialogues --out $(EVAL_OUT)/llm-dialogues.json
