"""The motion controls reach the command line, the pipeline settings and ``run.json``."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE, run_cli

from core.audio import SAMPLE_RATE, load_audio
from core.motion.settings import CONTROLS, MotionSettings
from core.motion.track import MotionTrack
from core.take.settings import Settings


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A second and a half of the bundled speech."""
    path = tmp_path_factory.mktemp("controls") / "speech.wav"
    samples = load_audio(SAMPLE_AUDIO)[: int(1.5 * SAMPLE_RATE)]
    sf.write(str(path), samples, SAMPLE_RATE)
    return path


def generate_cli(clip: Path, out: Path, *flags: str):
    """``python -m core generate`` on the sample portrait and ``clip``, quietly, into ``out``."""
    args = ["--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, "--quiet", *flags]
    return run_cli("generate", *args, timeout=300)


def test_settings_carry_every_motion_control():
    settings = Settings(
        motion=MotionSettings(
            seed=5,
            motion_intensity=0.3,
            lipsync_strength=0.7,
            blink_rate_per_min=20.0,
            lipsync_mode="acoustic",
            gaze_yaw=4.0,
            gaze_pitch=-3.0,
            head_scale=1.2,
            emotion="sad",
            emotion_intensity=0.4,
            speaking_style="calm",
        )
    )
    # The take settings hold the motion controls (no copies) and round-trip through run.json.
    assert set(CONTROLS) == {f.name for f in fields(MotionSettings)}
    assert not set(CONTROLS) & {f.name for f in fields(Settings)}
    again = Settings.from_dict(json.loads(json.dumps(settings.to_dict())))
    assert again == settings and again.motion.emotion == "sad" and again.seed == 5
    # A take recorded before the controls were grouped (flat keys) still reads back.
    flat = {k: v for k, v in settings.to_dict().items() if k != "motion"}
    flat |= settings.to_dict()["motion"]
    assert Settings.from_dict(flat) == settings


def test_cli_flags_reach_run_json_and_the_track(clip: Path, tmp_path: Path):
    out = tmp_path / "take"
    flags = [
        "--lipsync-mode",
        "acoustic",
        "--gaze-yaw",
        "7",
        "--gaze-pitch",
        "-4",
        "--head-scale",
        "1.25",
        "--emotion",
        "happy",
        "--emotion-intensity",
        "0.5",
        "--blink-rate",
        "12",
        "--intensity",
        "0",
        "--speaking-style",
        "animated",
    ]
    done = generate_cli(clip, out, *flags)
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "run.json").read_text())
    s = record["settings"]["motion"]
    assert (s["lipsync_mode"], s["gaze_yaw"], s["gaze_pitch"], s["head_scale"]) == (
        "acoustic",
        7.0,
        -4.0,
        1.25,
    )
    assert (s["emotion"], s["emotion_intensity"], s["blink_rate_per_min"]) == ("happy", 0.5, 12)
    assert s["speaking_style"] == "animated"
    assert record["motion"]["lipsync_mode"] == "acoustic"
    track = MotionTrack.load(out / "motion.npz")
    np.testing.assert_allclose(track["head_scale"], 1.25, atol=1e-6)
    assert abs(np.median(track["gaze_yaw"]) - 7.0) < 2.0  # intensity 0: no head to follow
    assert track["mouthSmileLeft"].min() >= 0.45 * 0.5 - 1e-6


def test_bad_control_is_one_error_line_and_writes_nothing(clip: Path, tmp_path: Path):
    out = tmp_path / "take"
    done = generate_cli(clip, out, "--gaze-yaw", "80")
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: Gaze yaw 80.0 is out of range; use -30 to 30 deg."]
    assert not out.exists()


def test_auto_mode_notes_a_fallback_in_run_json(clip: Path, tmp_path: Path, monkeypatch):
    from core.audio import phonemes
    from core.take.generate import generate

    monkeypatch.setattr(
        phonemes,
        "availability",
        lambda: "PocketSphinx is not installed (test); the acoustic lip sync was used.",
    )
    out = tmp_path / "take"
    result = generate(SAMPLE_IMAGE, clip, out, Settings(motion=MotionSettings(lipsync_mode="auto")))
    record = json.loads((out / "run.json").read_text())
    assert record["motion"]["lipsync_mode"] == "acoustic"
    assert record["motion"]["notes"] == [phonemes.availability()]
    assert phonemes.availability() in result.notes
