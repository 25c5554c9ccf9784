"""Quality gates measured on rendered frames of the test portraits (photos and paintings):
the landmark model must see the head, mouth and eyes follow the MotionTrack."""

from __future__ import annotations

import pytest
from conftest import portrait_path

from core.face.portrait import load_image
from core.quality.evaluate import FrameMeter, evaluate_frames, sweep_track
from core.render.warp import WarpRenderer
from core.runtime.factory import landmark_meter

NAMES = ["astronaut.png", "sad.png", "happy.png", "people_0.png", "art_1.png", "full_body_1.png"]


@pytest.fixture(scope="module")
def analyzer():
    return landmark_meter()


@pytest.mark.parametrize("name", NAMES)
def test_rendered_frames_follow_the_track(name, analyzer):
    image = load_image(portrait_path(name))
    face = analyzer.analyze(image)
    renderer = WarpRenderer(image, face)
    track = sweep_track(steps=7)
    report = evaluate_frames(
        FrameMeter(image, face, analyzer),
        (renderer.render(track.frame(i)) for i in range(track.n_frames)),
        track,
    )
    follows = report["follows"]
    assert report["detected"] == report["frames"], "the face was lost in some frames"
    for key in ("yaw", "pitch", "roll", "mouth", "eye_left", "eye_right"):
        assert follows[key]["correlation"] >= 0.9, (key, follows)
    assert report["background_change_grey_levels"] < 1.0
    assert report["jitter_face_widths"] is not None and report["jitter_face_widths"] < 0.002
