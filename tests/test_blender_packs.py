"""Neural packs in the Blender extension (bpy module, as tests/test_blender.py): the
preferences' Add Model Pack Folder runs the pack check (one sentence per bad file, nothing
listed), writes pack.toml for a folder of LivePortrait stand-in files and lists it, the panel
shows the pack's license, and Generate with that pack makes its take with the LivePortrait
renderer. Scenarios: tests/blender_pack_scenarios.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import blender_runner
import pytest
import soundfile as sf
from blender_runner import build_extension_zip

from core.audio import SAMPLE_RATE, load_audio
from core.runtime.pack_init import LICENSES

if importlib.util.find_spec("bpy") is None:
    pytest.skip("the bpy module (requirements-dev.txt) is needed", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).with_name("blender_pack_scenarios.py")
SAMPLE_IMAGE = REPO / "samples" / "astronaut.png"
SAMPLE_AUDIO = REPO / "samples" / "speech.wav"


@pytest.fixture(scope="module")
def neural(tmp_path_factory) -> dict:
    zip_path = build_extension_zip(tmp_path_factory.mktemp("dist"))
    clip = tmp_path_factory.mktemp("audio") / "one_second.wav"
    sf.write(clip, load_audio(SAMPLE_AUDIO)[:SAMPLE_RATE], SAMPLE_RATE)
    work = tmp_path_factory.mktemp("neural")
    return blender_runner.run_scenario(
        SCENARIOS, "neural_generate", zip_path, work, image=SAMPLE_IMAGE, audio=clip
    )


def test_add_pack_folder_reports_each_bad_file_and_adds_nothing(neural):
    bad = neural["bad"]
    assert bad["listed"] == 0
    result, errors = bad["empty"]
    assert result == "CANCELLED" and len(errors) == 1 and "no .onnx file" in errors[0], errors
    result, errors = bad["bad"]
    assert result == "CANCELLED"
    # As `pack init` says it: the missing warp, the missing stitching model and why the file
    # under its name is not it, each one line.
    assert len(errors) == 3, errors
    assert any("No file for the model 'warping_spade'" in e for e in errors), errors
    assert any("No file for the model 'stitching'" in e for e in errors), errors
    assert any("stitching.onnx (not a readable ONNX file" in e for e in errors), errors


def test_add_pack_folder_writes_pack_toml_and_lists_the_pack(neural):
    assert neural["added"] == "FINISHED" and neural["errors"] == []
    assert neural["again"] == ["FINISHED", []]
    assert neural["toml"]
    (path,) = neural["packs"]
    assert Path(path).name == "lp_pack" and neural["active_pack"] == 0
    assert path in neural["items"]  # the scene's pack picker offers it
    assert neural["pack_path"] == path


def test_panel_shows_the_selected_packs_license(neural):
    assert f"License: {LICENSES['liveportrait']}" in neural["labels"], neural["labels"]
    assert any(label.startswith("Runs on: CPU") for label in neural["labels"])
    prefs = neural["prefs_labels"]
    assert f"'liveportrait' pack, license: {LICENSES['liveportrait']}" in prefs, prefs
    # The extension ships the CPU onnxruntime: both say so and how to get CUDA.
    for labels in (prefs, neural["labels"]):
        assert any("not installed" in label for label in labels), labels
        assert any("make setup-gpu" in label for label in labels), labels


def test_generate_with_a_liveportrait_pack_renders_with_the_neural_renderer(neural):
    record = neural["record"]
    assert record["status"] == "complete"
    assert record["pack"]["profile"] == "liveportrait" and record["pack"]["name"] == "lp_pack"
    assert record["frames_written"] == record["n_frames"] == neural["take"]["n_frames"] == 12
    assert len([f for f in neural["frames"] if f != "frame_000000.png"]) == 12
    # Every LivePortrait network ran in this take (the renderer's sessions are in the report).
    for model in ("appearance_feature_extractor", "motion_extractor", "warping_spade"):
        assert record["providers"][f"lp_pack/{model}.onnx"]["provider"] == "CPU"
    assert neural["take"]["provider"].startswith("CPU")
