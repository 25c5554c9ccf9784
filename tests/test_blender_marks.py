"""The marks in the Blender extension (bpy module, as tests/test_blender.py): the Generate
panel's switches reach the engine and run.json, the frames carry the watermark and the
label when they are on and neither when off, and Verify Take shows a take's credentials and
watermark in the Takes panel. Scenarios: tests/blender_mark_scenarios.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import blender_runner
import cv2
import numpy as np
import pytest
from blender_runner import build_extension_zip
from conftest import speech_clip

from core import ENGINE_NAME, __version__
from core.marks.credentials import read_credentials
from core.marks.label import Label
from core.marks.watermark_read import read_file
from core.runtime.factory import landmark_meter

if importlib.util.find_spec("bpy") is None:
    pytest.skip("the bpy module (requirements-dev.txt) is needed", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).with_name("blender_mark_scenarios.py")
SAMPLE_IMAGE = REPO / "samples" / "astronaut.png"


@pytest.fixture(scope="module")
def marks(tmp_path_factory) -> dict:
    zip_path = build_extension_zip(tmp_path_factory.mktemp("dist"))
    clip = speech_clip(tmp_path_factory.mktemp("audio") / "one_second.wav", 1.0)
    work = tmp_path_factory.mktemp("marks")
    return blender_runner.run_scenario(
        SCENARIOS, "marks", zip_path, work, image=SAMPLE_IMAGE, audio=clip
    )


def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_panel_shows_the_switches_with_safe_defaults(marks):
    assert marks["defaults"] == {
        "credentials": True,
        "watermark": True,
        "label": False,
    }
    for name in ("credentials", "watermark", "label"):
        assert name in marks["props"], marks["props"]


def test_watermark_and_label_on_are_recorded_and_in_the_frames(marks):
    take = marks["marked"]
    assert take["status"] == "complete" and take["n_frames"] == 12
    settings = take["settings"]
    assert settings["watermark"] is True and settings["label"] is True
    assert settings["credentials"] is True
    assert take["take_settings"]["label"] is True  # the scene's record of the take too
    payload = take["watermark"]["payload"]
    assert len(payload) == 10
    frames = Path(take["folder"]) / "frames"
    # Read back with the engine's own reader.
    assert read_file(frames / "frame_000004.png").payload == payload
    image = _rgb(SAMPLE_IMAGE)
    label = Label(image, landmark_meter().detect(image)[0].box)
    x0, y0, x1, y1 = label.rect
    frame = _rgb(frames / "frame_000004.png")
    assert np.array_equal(frame[y0:y1, x0:x1], label(image.copy())[y0:y1, x0:x1])


def test_marks_off_are_recorded_off_and_leave_the_frames_unmarked(marks):
    take = marks["plain"]
    assert take["status"] == "complete"
    settings = take["settings"]
    assert settings["watermark"] is False and settings["label"] is False
    assert settings["credentials"] is False and take["watermark"] is None
    frames = Path(take["folder"]) / "frames"
    assert read_file(frames / "frame_000004.png").payload is None
    image = _rgb(SAMPLE_IMAGE)
    x0, y0, x1, y1 = Label(image, landmark_meter().detect(image)[0].box).rect
    frame = _rgb(frames / "frame_000004.png")
    assert np.array_equal(frame[y0:y1, x0:x1], image[y0:y1, x0:x1])  # no label drawn


def test_verify_take_reports_the_watermark_payload(marks):
    take = marks["marked"]
    payload = take["watermark"]["payload"]
    verify = take["verify"]
    assert verify["result"] == "FINISHED", verify
    lines = verify["lines"]
    assert lines[0] == "Frame: frame_000004.png"  # the playhead's frame of the take
    assert any(f"take {payload}" in line for line in lines), lines
    assert f"run.json payload {payload}: matches the picture" in lines
    assert payload in verify["status"]
    for line in lines:  # the Takes panel shows them
        assert line in verify["panel"], verify["panel"]


def test_verify_take_without_a_watermark_says_so(marks):
    verify = marks["plain"]["verify"]
    assert verify["result"] == "FINISHED", verify
    assert "Watermark: none found" in verify["lines"]
    assert "This take was made with the watermark off" in verify["lines"]
    assert "no watermark" in verify["status"]


def test_verify_take_of_signed_frames_shows_who_signed_and_agreement(marks):
    """PNG frames are signed by default (Content Credentials on)."""
    take = marks["marked"]
    payload = take["watermark"]["payload"]
    assert take["settings"]["credentials"] is True and "sign_frames" not in take["settings"]
    for name in ("frame_000001.png", "frame_000004.png", "frame_000012.png"):
        cred = read_credentials(Path(take["folder"]) / "frames" / name)
        assert cred.state == "valid" and cred.watermark_payload == payload, cred.problems
    plain = Path(marks["plain"]["folder"]) / "frames" / "frame_000004.png"
    assert read_credentials(plain).state == "none"  # Content Credentials off
    lines = take["verify"]["lines"]
    assert any(line.startswith("Signed by: ") and "unverified" in line for line in lines), lines
    assert any(line.startswith("Made: 20") for line in lines), lines
    assert any(line == f"Engine: {ENGINE_NAME} {__version__}" for line in lines), lines
    assert any(line.startswith("Pack: ") for line in lines), lines
    assert "Content: unchanged since it was signed" in lines
    assert f"Credentials and watermark: agree (take {payload})" in lines
    assert f"run.json payload {payload}: matches the picture" in lines


def test_the_local_signing_key_lives_in_the_extensions_user_folder(marks):
    """Blender's signed frames use a key kept by bpy.utils.extension_path_user (issue 17),
    not the command line's $XDG_DATA_HOME folder."""
    files = marks["key_files"]
    assert files["extension"] and not files["xdg"], files
