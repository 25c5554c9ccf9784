"""The calibration statistics on series whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from core.quality.calibration import compare, format_table, talk_statistics

FPS = 25.0


def series(n: int = 1500) -> dict[str, np.ndarray]:
    """A minute of a still, open-eyed face with the lips shut."""
    return {
        "yaw": np.zeros(n),
        "pitch": np.zeros(n),
        "roll": np.zeros(n),
        "mouth": np.zeros(n),
        "eye_right": np.full(n, 0.3),
        "eye_left": np.full(n, 0.3),
        "iris_x_right": np.zeros(n),
        "iris_x_left": np.zeros(n),
        "iris_y_right": np.zeros(n),
        "iris_y_left": np.zeros(n),
    }


def test_head_spread_and_speed():
    m = series()
    t = np.arange(1500) / FPS
    m["yaw"] = 6.0 * np.sin(2 * np.pi * 0.25 * t)  # std 6/sqrt(2), mean |speed| 4*A*f
    m["pitch"][700] = np.nan  # a frame without a face is filled, not a spike
    stats = talk_statistics(m, np.ones(1500, bool), FPS)
    assert stats["yaw_std"] == pytest.approx(6 / np.sqrt(2), rel=0.01)
    assert stats["yaw_speed"] == pytest.approx(4 * 6.0 * 0.25, rel=0.03)
    assert stats["pitch_std"] == 0 and stats["pitch_speed"] == 0


def test_lips_and_mouth_in_speech_only():
    m = series()
    speech = np.zeros(1500, bool)
    speech[:1000] = True
    m["mouth"][:750] = 0.1  # three quarters of speech apart
    m["mouth"][1000:] = 0.5  # wide open outside speech: not counted
    stats = talk_statistics(m, speech, FPS)
    assert stats["lips_apart_in_speech"] == pytest.approx(0.75)
    assert stats["mouth_mean_in_speech"] == pytest.approx(0.075)
    assert stats["mouth_p90_in_speech"] == pytest.approx(0.1)


def test_blinks_counted_and_timed():
    m = series()
    for start in range(100, 1500, 150):  # 10 blinks of 5 frames (0.2 s) in a minute
        m["eye_right"][start : start + 5] = 0.05
        m["eye_left"][start : start + 5] = 0.06
    m["eye_right"][1300:1400] = 0.05  # eyes shut for 4 s: not a blink
    m["eye_left"][1300:1400] = 0.05
    stats = talk_statistics(m, np.ones(1500, bool), FPS)
    assert stats["blinks_per_min"] == pytest.approx(9)  # the one at 1300 is inside the 4 s
    assert stats["blink_duration_s"] == pytest.approx(0.2)


def test_gaze_shifts_counted():
    m = series()
    level = np.zeros(1500)
    for k, start in enumerate(range(50, 1500, 100)):  # 15 jumps of 0.1 eye widths
        level[start:] = 0.1 * ((k + 1) % 2)
    m["iris_x_right"] = level + np.random.default_rng(0).normal(0, 0.003, 1500)
    m["iris_x_left"] = level
    stats = talk_statistics(m, np.ones(1500, bool), FPS)
    assert stats["gaze_shifts_per_min"] == 15
    assert talk_statistics(series(), np.ones(1500, bool), FPS)["gaze_shifts_per_min"] == 0


def test_compare_ratios():
    table = compare({"yaw_std": 2.0, "blinks_per_min": 0.0}, {"yaw_std": 1.0, "blinks_per_min": 3})
    assert table["yaw_std"]["ratio"] == 0.5 and table["blinks_per_min"]["ratio"] is None
    assert "head yaw, standard deviation" in format_table(table)
