"""Neural packs in the Blender extension (bpy module, as tests/test_blender.py): the
preferences' Add Model Pack Folder runs the pack check (one sentence per bad file, nothing
listed), writes pack.toml for a folder of LivePortrait stand-in files and lists it, the panel
shows the pack's license, and Generate with that pack makes its take with the LivePortrait
renderer. With a Ditto stand-in pack, the take's signed lp_exp_* channels are keyed as
curves in their own group without being clamped, and an edited one re-renders its frames.
Scenarios: tests/blender_pack_scenarios.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import blender_runner
import numpy as np
import pytest
from blender_runner import build_extension_zip
from conftest import speech_clip

from core.runtime.pack_init import LICENSES

if importlib.util.find_spec("bpy") is None:
    pytest.skip("the bpy module (requirements-dev.txt) is needed", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).with_name("blender_pack_scenarios.py")
SAMPLE_IMAGE = REPO / "samples" / "astronaut.png"


@pytest.fixture(scope="module")
def zip_path(tmp_path_factory) -> Path:
    return build_extension_zip(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return speech_clip(tmp_path_factory.mktemp("audio") / "one_second.wav", 1.0)


@pytest.fixture(scope="module")
def neural(tmp_path_factory, zip_path, clip) -> dict:
    work = tmp_path_factory.mktemp("neural")
    return blender_runner.run_scenario(
        SCENARIOS, "neural_generate", zip_path, work, image=SAMPLE_IMAGE, audio=clip
    )


LP_KEYS = [4, 5, 6]  # the 0-based keys (take frames) whose lp_ value the animator edits


@pytest.fixture(scope="module")
def ditto(tmp_path_factory, zip_path, clip) -> dict:
    work = tmp_path_factory.mktemp("ditto")
    return blender_runner.run_scenario(
        SCENARIOS, "ditto_generate", zip_path, work, image=SAMPLE_IMAGE, audio=clip, lp_keys=LP_KEYS
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


def test_generate_with_a_ditto_pack_keys_signed_lp_curves(ditto):
    assert ditto["added"] == "FINISHED" and ditto["errors"] == []
    record = ditto["record"]
    assert record["status"] == "complete" and record["pack"]["profile"] == "ditto"
    assert record["frames_written"] == record["n_frames"] == ditto["take"]["n_frames"] == 12
    lp = [name for name in ditto["channels"] if name.startswith("lp_exp_")]
    assert len(lp) == 33
    values = np.array([ditto["values"][name] for name in lp])
    assert values.min() < 0 < values.max()  # signed offsets, as generated
    frames = ditto["take"]["frame_start"] + np.arange(12)
    for name in lp:
        curve = ditto["curves"][name]
        assert curve["group"] == "LivePortrait"
        np.testing.assert_allclose(curve["frames"], frames)
        np.testing.assert_allclose(curve["values"], ditto["values"][name], atol=1e-6)
        # What the animation system sets on the property at each frame: not clamped.
        np.testing.assert_allclose(ditto["evaluated"][name], ditto["values"][name], atol=1e-6)
        ui = ditto["ui"][name]
        assert ui["soft_min"] == pytest.approx(-0.05) and ui["soft_max"] == pytest.approx(0.05)
        assert ui["min"] <= -1.0 and ui["max"] >= 1.0


def test_an_edited_lp_curve_rerenders_the_changed_frames(ditto):
    edited = ditto["edited"]
    expected = np.array(ditto["values"][edited])
    expected[LP_KEYS] = ditto["edited_value"]
    assert ditto["edited_value"] < 0
    np.testing.assert_allclose(ditto["edited_after"], expected, atol=1e-6)

    def differ(a, b):  # 0-based frames whose file changed (frame_000000 holds frame 1)
        return sorted(int(n[6:12]) - 1 for n in a if a[n] != b[n] and n[6:12] != "000000")

    assert differ(ditto["before"], ditto["after"]) == LP_KEYS
