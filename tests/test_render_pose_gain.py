"""The warp renderer draws the head's turns at the angle the track asks for, as the landmark
measurement that calibration and capture use (``FaceFeatures``) reads them back."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import portrait_path

from core.face.measure import FEATURES, FaceFeatures, read_face
from core.face.portrait import load_image
from core.render.warp import WarpRenderer
from core.runtime.factory import landmark_meter

ANGLE = 12.0  # degrees each way: within what the calibrated motion reaches
GAIN = (0.85, 1.15)  # measured angle over the asked angle
CHANNELS = (("head_yaw", "yaw"), ("head_pitch", "pitch"), ("head_roll", "roll"))


@pytest.fixture(scope="module")
def analyzer():
    return landmark_meter()


@pytest.mark.parametrize("name", ["astronaut.png", "art_1.png"])
def test_rendered_turns_read_at_the_asked_angle(analyzer, name):
    image = load_image(portrait_path(name))
    renderer = WarpRenderer(image, analyzer.analyze(image))
    reference = read_face(analyzer, image)
    assert reference is not None
    features = FaceFeatures(reference)

    def measured(channels: dict[str, float], key: str) -> float:
        reading = read_face(analyzer, renderer.render(channels))
        assert reading is not None
        return float(features.measure(reading)[FEATURES.index(key)])

    gains = {}
    for channel, key in CHANNELS:
        turned = measured({channel: ANGLE}, key) - measured({channel: -ANGLE}, key)
        gains[key] = turned / (2 * ANGLE)
    assert all(GAIN[0] <= g <= GAIN[1] for g in gains.values()), gains
    # A still frame reads as still (the gain is not an offset).
    still = read_face(analyzer, renderer.render({}))
    assert still is not None
    assert np.abs(features.measure(still)[:3]).max() < 1.0
