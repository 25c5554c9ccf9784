"""The warp renderer opens the lips as wide as real talkers part them, as the landmark model
that calibration and capture use reads it back (issue 11).

The lip sync's jawOpen in speech has a mean of about 0.23 and a 90th percentile of about
0.38 (docs/motion.md); the real clips' inner-lip gap in speech has a mean of 0.08-0.09 and a
90th percentile of 0.15-0.17 face widths. The linear jaw of before read 0.02-0.03 and
0.03-0.05 here, which is what left the mouth looking closed.
"""

from __future__ import annotations

import pytest
from conftest import portrait_path

from core.face.measure import mouth_opening
from core.face.portrait import load_image
from core.render.warp import WarpRenderer
from core.runtime.factory import landmark_meter

SPEECH_MEAN_JAW, SPEECH_P90_JAW = 0.23, 0.38
MEAN_GAP = (0.05, 0.11)  # face widths over the portrait's own gap, at the mean jaw
P90_GAP = 0.1  # at least this at the 90th percentile jaw


@pytest.fixture(scope="module")
def analyzer():
    return landmark_meter()


@pytest.mark.parametrize("name", ["art_1.png", "sad.png", "people_0.png"])
def test_speech_openings_read_as_wide_as_real_talkers(analyzer, name):
    image = load_image(portrait_path(name))
    renderer = WarpRenderer(image, analyzer.analyze(image))

    def gap(jaw: float) -> float:
        landmarks = analyzer.measure(renderer.render({"jawOpen": jaw}) if jaw else image)
        assert landmarks is not None
        return mouth_opening(landmarks.astype(float))

    rest = gap(0.0)
    mean, p90 = gap(SPEECH_MEAN_JAW) - rest, gap(SPEECH_P90_JAW) - rest
    assert MEAN_GAP[0] <= mean <= MEAN_GAP[1], (mean, p90)
    assert p90 >= P90_GAP and p90 > mean + 0.02, (mean, p90)
