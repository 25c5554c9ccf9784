# `make demo` and `make test` set everything up on a fresh machine (Python 3.11 + venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS_VENV := .venv-tools

.PHONY: setup demo test lint bench models extension clean test-blender test-blender-all \
	test-extension-zip setup-gpu

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

setup: $(STAMP)

# NVIDIA GPUs (Linux or Windows with an NVIDIA driver for CUDA 13): the engine in .venv-gpu
# with onnxruntime-gpu and the CUDA/cuDNN pip packages of requirements-gpu.txt instead of
# the CPU onnxruntime (both install the `onnxruntime` package, so they cannot share a venv).
# Then e.g. `.venv-gpu/bin/python -m core generate --provider cuda ...`; the last step says
# which provider runs each built-in model and why (no GPU: CPU, with the reason).
GPU_VENV := .venv-gpu

$(GPU_VENV)/.installed: requirements.txt requirements-gpu.txt
	$(PYTHON) -m venv $(GPU_VENV)
	$(GPU_VENV)/bin/python -m pip install --quiet --upgrade pip
	grep -v '^onnxruntime==' requirements.txt > $(GPU_VENV)/requirements-engine.txt
	$(GPU_VENV)/bin/python -m pip install --quiet -r $(GPU_VENV)/requirements-engine.txt \
		-r requirements-gpu.txt
	touch $@

setup-gpu: $(GPU_VENV)/.installed
	$(GPU_VENV)/bin/python -m core pack check

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

# The whole suite (the Blender scenarios on bpy 4.5 LTS, from requirements-dev.txt), then
# on the newest Blender (5.0) the Blender scenarios again and the Linux zip with its wheels.
test: setup lint
	$(BIN)/python -m pytest -q
	$(MAKE) --no-print-directory test-blender test-extension-zip BPY=$(BPY_NEWEST)

# The Blender scenarios on another bpy wheel, each in a venv of its own (.venv-bpy-VERSION):
#   make test-blender BPY=4.2.23    make test-blender-all (4.2 LTS, 4.4, 4.5 LTS, 5.0)
BLENDER_MATRIX := 4.2.23 4.4.0 4.5.4 5.0.1
BPY_NEWEST := 5.0.1
BPY ?= $(BPY_NEWEST)
TEST_PINS = $(shell grep -E '^(pytest|hypothesis)==' requirements-dev.txt)

.venv-bpy-%/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv .venv-bpy-$*
	.venv-bpy-$*/bin/python -m pip install --quiet --upgrade pip
	.venv-bpy-$*/bin/python -m pip install --quiet -r requirements.txt bpy==$* $(TEST_PINS)
	touch $@

test-blender: .venv-bpy-$(BPY)/.installed
	.venv-bpy-$(BPY)/bin/python -m pytest -q -p no:cacheprovider tests/test_blender.py tests/test_character.py \
		tests/test_blender_capture.py tests/test_blender_packs.py tests/test_blender_marks.py

test-blender-all:
	for v in $(BLENDER_MATRIX); do \
		$(MAKE) --no-print-directory test-blender test-extension-zip BPY=$$v || exit 1; done

# The platform zips with their wheels (make extension), the Linux one installed into a clean
# user folder and run in a venv that has nothing but the bpy wheel (.venv-bare-VERSION).
.venv-bare-%/.installed:
	$(PYTHON) -m venv .venv-bare-$*
	.venv-bare-$*/bin/python -m pip install --quiet bpy==$*
	touch $@

test-extension-zip: extension .venv-bare-$(BPY)/.installed
	VASA_BARE_PYTHON=$(CURDIR)/.venv-bare-$(BPY)/bin/python $(BIN)/python -m pytest -q \
		-p no:cacheprovider tests/test_extension_install.py

# The extension zips (one per platform, each with its dependency wheels), built and
# validated by Blender's own builder (from the bpy wheel): dist/talking_head-VERSION-*.zip
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' blender_manifest.toml)

extension: setup
	$(BIN)/python tools/fetch_wheels.py --dest wheels
	$(BIN)/python tools/build_extension.py --output-dir dist

# The last run renders with a LivePortrait stand-in pack (tests/neural_standins.py: the
# published tensor names and shapes, tiny graphs) on the CPU: the neural path's own cost per
# frame beside its networks', and its frames per second end to end at 512x512.
BENCH_PACK := out/bench/liveportrait_standin

bench: setup
	$(BIN)/python -m core bench
	$(BIN)/python -m core bench --hd --seconds 10
	$(BIN)/python -m core bench --uhd --seconds 4 --runs 2
	$(BIN)/python -m core bench --batch 12
	rm -rf $(BENCH_PACK)
	PYTHONPATH=tests $(BIN)/python -c "import neural_standins as s, pathlib; \
		s.liveportrait_folder(pathlib.Path('$(BENCH_PACK)'))"
	$(BIN)/python -m core pack init $(BENCH_PACK)
	$(BIN)/python -m core bench --pack $(BENCH_PACK) --seconds 4 --runs 3

# Rebuild core/builtin_pack from the mediapipe wheel (needs TensorFlow; not used by CI).
models:
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/python -m pip install --quiet -r tools/requirements-convert.txt
	$(TOOLS_VENV)/bin/python tools/convert_face_models.py

clean:
	rm -rf out dist .pytest_cache .ruff_cache
