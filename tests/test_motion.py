"""MotionTrack storage and the procedural generator's behaviour on known audio."""

from __future__ import annotations

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, compute_features
from core.motion import HEAD_CHANNELS, STANDARD_CHANNELS, MotionTrack
from core.motion_procedural import MotionSettings, generate_motion

FPS = 25.0


def _voice(seconds: float, f0: float = 140.0) -> np.ndarray:
    """A voiced, syllable-like signal: harmonics under a 4 Hz amplitude envelope."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    return (0.2 * tone * envelope).astype(np.float32)


def _speech_with_pause() -> tuple[np.ndarray, slice]:
    """2 s voice, 1.5 s silence, 2 s voice; returns the samples and the pause's frames."""
    silence = np.zeros(int(1.5 * SAMPLE_RATE), np.float32)
    samples = np.concatenate([_voice(2.0), silence, _voice(2.0)])
    return samples, slice(int(2.0 * FPS), int(3.5 * FPS))


@pytest.fixture(scope="module")
def features():
    samples, _ = _speech_with_pause()
    return compute_features(samples, FPS)


def test_track_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    track = MotionTrack(24.0, STANDARD_CHANNELS, rng.normal(size=(37, len(STANDARD_CHANNELS))),
                        {"generator": "test", "n": 3})
    track.save(tmp_path / "motion.npz")
    back = MotionTrack.load(tmp_path / "motion.npz")
    assert back.fps == 24.0
    assert back.channels == STANDARD_CHANNELS
    assert back.meta == {"generator": "test", "n": 3}
    np.testing.assert_array_equal(back.data, track.data)
    assert not list(tmp_path.glob("*.tmp"))


def test_track_validation_and_neutral():
    still = MotionTrack.neutral(5, 25.0)
    assert np.all(still["head_scale"] == 1.0)
    assert np.all(still["jawOpen"] == 0.0)
    assert still.frame(0)["head_scale"] == 1.0
    with pytest.raises(ValueError):
        MotionTrack(25.0, ("a", "b"), np.zeros((4, 3)))
    with pytest.raises(ValueError):
        MotionTrack(25.0, ("a", "a"), np.zeros((4, 2)))


def test_jaw_closed_in_silence_open_in_speech(features):
    _, pause = _speech_with_pause()
    track = generate_motion(features, MotionSettings(seed=3))
    jaw = track["jawOpen"]
    # The jaw may still be closing at the start, and shapes lead the sound by a frame.
    inner = slice(pause.start + 3, pause.stop - 2)
    assert np.all(jaw[inner] == 0.0)
    assert np.percentile(jaw[: pause.start], 80) > 0.2
    assert np.percentile(jaw[pause.stop:], 80) > 0.2
    assert jaw.max() <= 1.0
    # lip-sync strength scales the mouth
    weak = generate_motion(features, MotionSettings(seed=3, lipsync_strength=0.5))["jawOpen"]
    np.testing.assert_allclose(weak, jaw * 0.5, atol=1e-6)


def test_deterministic_by_seed(features):
    a = generate_motion(features, MotionSettings(seed=7))
    b = generate_motion(features, MotionSettings(seed=7))
    c = generate_motion(features, MotionSettings(seed=8))
    np.testing.assert_array_equal(a.data, b.data)
    assert not np.allclose(a["head_yaw"], c["head_yaw"])
    assert a.channels == STANDARD_CHANNELS


def test_intensity_zero_keeps_head_still(features):
    track = generate_motion(features, MotionSettings(motion_intensity=0.0))
    for name in HEAD_CHANNELS:
        expected = 1.0 if name == "head_scale" else 0.0
        np.testing.assert_allclose(track[name], expected, atol=1e-7)
    moving = generate_motion(features, MotionSettings(motion_intensity=1.0))
    assert np.ptp(moving["head_yaw"]) > 1.0


def test_head_motion_gentle_and_smooth():
    samples = np.tile(_voice(1.0), 60)  # one minute
    track = generate_motion(compute_features(samples, FPS), MotionSettings(seed=2))
    for name, limit in (("head_yaw", 15.0), ("head_pitch", 12.0), ("head_roll", 10.0)):
        values = track[name]
        assert np.abs(values).max() < limit, name
        assert np.abs(np.diff(values)).max() < 1.0, f"{name} jumps between frames"


def test_blinks_natural_rate_and_length():
    samples = np.tile(_voice(1.0), 60)
    track = generate_motion(compute_features(samples, FPS), MotionSettings(seed=5))
    blink = track["eyeBlinkLeft"]
    np.testing.assert_array_equal(blink, track["eyeBlinkRight"])
    closed = blink > 0.05
    starts = np.flatnonzero(closed[1:] & ~closed[:-1]) + 1
    ends = np.flatnonzero(~closed[1:] & closed[:-1]) + 1
    assert 8 <= len(starts) <= 30, f"{len(starts)} blinks in a minute"
    lengths = (ends[: len(starts)] - starts[: len(ends)]) / FPS
    assert np.all((lengths >= 0.08) & (lengths <= 0.4))
    assert blink.max() > 0.9


def test_empty_features_give_empty_track():
    features = compute_features(np.zeros(10, np.float32), FPS)
    track = generate_motion(features)
    assert track.n_frames == features.n_frames
