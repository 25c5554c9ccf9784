"""Capture in Blender: the Capture operator reads a movie strip (a clip our renderer made
from a known MotionTrack) into a take's motion.npz that follows the source, and offers it
to Generate (a silent image-plane take whose curves are that motion, re-rendered after an
edit) and Animate Character; bad videos are one sentence and leave nothing behind; a
cancel leaves nothing. One Blender process (tests/capture_scenarios.py)."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import numpy as np
import pytest
from blender_runner import build_extension_zip, run_scenario
from conftest import SAD_IMAGE, run_cli

from core.capture.video import ffmpeg_exe
from core.character.timing import motion_at_rate
from core.errors import VasaError
from core.motion.track import MotionTrack
from core.take.record import TakeFolder

SCENARIOS = Path(__file__).with_name("capture_scenarios.py")
FPS, N, EDIT_KEY = 12.0, 24, 7


def known_track() -> MotionTrack:
    """Head yaw and jaw on curves of different periods (and a blink), 2 s at 12 fps."""
    t = np.arange(N) / FPS
    track = MotionTrack.neutral(N, FPS)
    track["head_yaw"] = 12 * np.sin(2 * np.pi * t / 2.0)
    # Up to 0.5, talking's range: above it the landmark model's reading of a rendered
    # mouth levels off, so capture reads jaw back only that far (docs/capture.md).
    track["jawOpen"] = 0.25 * (1 - np.cos(2 * np.pi * t / 0.9))
    track["eyeBlinkLeft"] = track["eyeBlinkRight"] = np.where(np.abs(t - 1.2) < 0.15, 1.0, 0.0)
    return track


def test_motion_at_rate_resamples_into_the_take_and_keeps_a_matching_file(tmp_path):
    known_track().save(tmp_path / "known.npz")
    assert motion_at_rate(tmp_path / "known.npz", FPS, tmp_path / "inputs") == tmp_path / (
        "known.npz"
    )
    path = motion_at_rate(tmp_path / "known.npz", 24.0, tmp_path / "inputs")
    track = MotionTrack.load(path)
    assert path.parent == tmp_path / "inputs" and track.fps == 24.0 and track.n_frames == 2 * N - 1
    np.testing.assert_allclose(track["jawOpen"][::2], known_track()["jawOpen"], atol=1e-6)
    assert "resampled from 12 to 24 fps" in track.meta["notes"][-1]
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(VasaError, match="cannot be read as a MotionTrack"):
        motion_at_rate(tmp_path / "bad.npz", 24.0, tmp_path / "inputs2")
    assert not (tmp_path / "inputs2").exists()


needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs bpy")


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def captured(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("blender_capture")
    known_track().save(tmp / "known.npz")
    clip = tmp / "clip.mp4"
    result = run_cli(
        "generate", "--image", SAD_IMAGE, "--motion", tmp / "known.npz", "--out", tmp / "src",
        "--video", clip, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    bad = {"no_face": tmp / "no_face.mp4", "vfr": tmp / "vfr.mp4", "corrupt": tmp / "bad.mp4"}
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x96:rate=10", "-t", "1", "-pix_fmt", "yuv420p",
            str(bad["no_face"]))  # fmt: skip
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=25", "-t", "2", "-vf",
            "setpts='if(lt(N,25),N,25+(N-25)*3)/25/TB'", "-fps_mode", "vfr", "-pix_fmt",
            "yuv420p", str(bad["vfr"]))  # fmt: skip
    bad["corrupt"].write_bytes(np.random.default_rng(0).bytes(4000))
    zip_path = build_extension_zip(tmp / "dist")
    work = tmp / "work"
    args = {"image": SAD_IMAGE, "clip": clip, "fps": int(FPS), "edit_key": EDIT_KEY, "bad": bad}
    return {**run_scenario(SCENARIOS, "capture", zip_path, work, **args), "work": work}


def _corr(a, b) -> float:
    return float(np.corrcoef(a, b)[0, 1])


@needs_bpy
def test_capture_from_a_movie_strip_follows_the_source(captured):
    known = known_track()
    out = captured["captured"]
    assert "Add a sound strip" in captured["no_generate_yet"]  # no Motion File yet
    assert out["folders"] == ["take_001"] and out["takes"] == 0  # a take folder, no record
    record, track = TakeFolder(captured["work"] / "vasa" / "take_001").read()
    assert record.kind == "capture" and track.fps == FPS and track.n_frames == N
    assert record.inputs["video"]["path"].endswith("clip.mp4")
    for channel in ("head_yaw", "jawOpen"):
        r = _corr(track[channel], known[channel])
        assert r >= 0.9, f"{channel}: r = {r:.3f}"
    assert out["motion_file"] == out["character_motion_file"] == "//vasa/take_001/motion.npz"
    assert out["status"].startswith("take_001: captured 24 frames at 12 fps from clip.mp4;")


@needs_bpy
def test_generate_from_the_capture_keys_its_motion_and_renders_frames(captured):
    gen = captured["generated"]
    track = MotionTrack.load(captured["work"] / "vasa" / "take_001" / "motion.npz")
    assert gen["name"] == "take_002" and gen["n_frames"] == N and gen["sound_strip"] == ""
    assert gen["frame_start"] == 1 and gen["strip"]["frame_final_duration"] == N
    assert gen["status"].startswith("take_002: 24 frames")
    for channel in ("jawOpen", "head_yaw", "eyeBlinkLeft", "mouthSmileLeft"):
        curve = gen["controller"]["curves"][f'["{channel}"][0]']
        np.testing.assert_array_equal(curve["frames"], 1 + np.arange(N))
        np.testing.assert_allclose(curve["values"], track[channel], atol=1e-5, err_msg=channel)
    folder = TakeFolder(gen["folder"])
    record, rendered = folder.read()
    assert record.status == "complete" and "audio" not in record.inputs
    assert record.inputs["motion"]["path"].endswith("take_001/motion.npz")
    assert all(folder.frame_path(i, "png").is_file() for i in range(1, N + 1))
    # Re-render after an edit of the captured jaw: that frame, and only that frame, changes,
    # and the take's motion holds the edit.
    changed = captured["rerender"]["changed"]
    assert changed == [f"frame_{EDIT_KEY + 1:06d}.png"], captured["rerender"]
    assert rendered["jawOpen"][EDIT_KEY] == pytest.approx(1.0)
    others = np.arange(N) != EDIT_KEY
    np.testing.assert_allclose(rendered["jawOpen"][others], track["jawOpen"][others], atol=1e-5)


@needs_bpy
def test_animate_character_from_the_capture(captured):
    track = MotionTrack.load(captured["work"] / "vasa" / "take_001" / "motion.npz")
    char = captured["character"]
    assert char["status"].startswith("take_003: 2 shape keys")
    points = np.asarray(char["key"]['key_blocks["jawOpen"].value[0]'])
    np.testing.assert_array_equal(points[:, 0], 1 + np.arange(N))
    np.testing.assert_allclose(points[:, 1], np.clip(track["jawOpen"], 0, 1), atol=1e-6)


@needs_bpy
def test_bad_videos_are_one_sentence_and_leave_nothing(captured):
    bad = captured["bad"]
    expected = {
        "several_strips": "several movie strips; choose the one to capture",
        "strip_no_face": "No face is found in any frame of no_face.mp4",
        "no_face": "No face is found in any frame of no_face.mp4",
        "vfr": "variable frame rate",
        "corrupt": "bad.mp4 cannot be read as a video",
        "missing": "missing.mp4 does not exist",
    }
    kept = ["take_001", "take_002", "take_003"]
    for name, words in expected.items():
        case = bad[name]
        assert words in case["message"] and case["message"].strip().count("\n") == 0, case
        assert case["folders"] == kept and case["motion_file"] == "//vasa/take_001/motion.npz"
    cancelled = bad["cancelled"]
    assert (
        cancelled["level"] == "WARNING" and "cancelled; nothing was written" in cancelled["message"]
    )
    assert not cancelled["folder_left"]
    assert cancelled["motion_file"] == "//vasa/take_001/motion.npz"
