# `make demo` and `make test` set everything up on a fresh machine (Python 3.11 + venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_VENV := .venv-tools

.PHONY: setup demo test lint bench models clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(BIN)/python -m core generate --image samples/astronaut.png --audio samples/speech.wav \
		--out out/demo --overwrite --video out/demo/demo.mp4

lint: setup
	$(BIN)/ruff check .

test: setup lint
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python -m core bench
	$(BIN)/python -m core bench --hd --seconds 10

# Rebuild core/builtin_pack from the mediapipe wheel (needs TensorFlow; not used by CI).
models:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r tools/requirements-convert.txt
	$(TOOLS_VENV)/bin/python tools/convert_face_models.py

clean:
	rm -rf out dist .pytest_cache .ruff_cache
