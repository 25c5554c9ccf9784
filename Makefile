# `make demo` and `make test` set everything up on a fresh machine (Python 3.11 + venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_VENV := .venv-tools

.PHONY: setup demo test lint bench models extension clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# The engine alone, then the same through Blender (bpy module): out/demo/demo.blend with the
# take in out/demo/blender/take_001. The extension is installed into out/blender-user, not
# into your own Blender settings.
demo: setup
	$(BIN)/python tools/build_extension.py --no-wheels --output-dir out/extension
	$(BIN)/python -m core generate --image samples/astronaut.png --audio samples/speech.wav \
		--out out/demo --overwrite --video out/demo/demo.mp4
	rm -rf out/demo/blender out/demo/demo.blend out/blender-user
	BLENDER_USER_RESOURCES=$(CURDIR)/out/blender-user $(BIN)/python scripts/batch.py \
		--image samples/astronaut.png --audio samples/speech.wav --out out/demo/blender \
		--blend out/demo/demo.blend --extension out/extension/talking_head-$(VERSION).zip

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup lint
	$(BIN)/python -m pytest -q

# The extension zips (one per platform, each with its dependency wheels), built and
# validated by Blender's own builder (from the bpy wheel): dist/talking_head-VERSION-*.zip
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' blender_manifest.toml)

extension: setup
	$(BIN)/python tools/fetch_wheels.py --dest wheels
	$(BIN)/python tools/build_extension.py --output-dir dist

bench: setup
	$(BIN)/python -m core bench
	$(BIN)/python -m core bench --hd --seconds 10
	$(BIN)/python -m core bench --batch 12

# Rebuild core/builtin_pack from the mediapipe wheel (needs TensorFlow; not used by CI).
models:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r tools/requirements-convert.txt
	$(TOOLS_VENV)/bin/python tools/convert_face_models.py

clean:
	rm -rf out dist .pytest_cache .ruff_cache
