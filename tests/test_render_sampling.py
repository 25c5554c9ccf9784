"""The CPU path (OpenCV samples, ONNX Runtime upsamples and paints) renders what the single
warp graph renders, to within remap's 1/32-pixel sampling positions; "auto" picks it only
when ONNX Runtime runs on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import portrait_path

from core.face.portrait import load_image
from core.render.sampling import uses_opencv
from core.render.warp import WarpRenderer
from core.runtime.factory import landmark_meter
from core.runtime.sessions import Runtime

# Frames that exercise every part: the warp, the jaw's step, the painted mouth and lids,
# the moved irises, a turned and tilted head.
FRAMES = [
    {},
    {"jawOpen": 0.7, "mouthFunnel": 0.3},
    {"head_yaw": 12.0, "head_pitch": -6.0, "head_roll": 4.0, "jawOpen": 0.3},
    {"eyeBlinkLeft": 0.6, "eyeBlinkRight": 0.6, "gaze_yaw": 12.0, "gaze_pitch": 6.0},
    {"mouthSmileLeft": 0.8, "mouthSmileRight": 0.8, "head_x": 0.03, "head_scale": 1.05},
]


@pytest.mark.parametrize("name", ["astronaut.png", "art_1.png"])
def test_opencv_path_matches_the_graph(name):
    image = load_image(portrait_path(name))
    face = landmark_meter().analyze(image)
    graph = WarpRenderer(image, face, sampler="graph")
    opencv = WarpRenderer(image, face, sampler="opencv")
    assert opencv.opencv is not None and graph.opencv is None
    for channels in FRAMES:
        a = graph.render(channels).astype(np.int16)
        b = opencv.render(channels).astype(np.int16)
        diff = np.abs(a - b)
        assert diff.max() <= 6, (channels, diff.max())
        assert diff.mean() < 0.1, (channels, diff.mean())
        if channels:  # the frame really moved: the comparison is not of two still photos
            assert np.abs(a - image).mean() > 0.05


class _FakeRuntime(Runtime):
    def __init__(self, first: str):
        super().__init__()
        self.first = first

    def providers(self):
        return [self.first, "CPUExecutionProvider"], "faked"


def test_auto_samples_with_opencv_only_on_the_cpu():
    assert uses_opencv("auto", _FakeRuntime("CPUExecutionProvider"))
    assert not uses_opencv("auto", _FakeRuntime("CUDAExecutionProvider"))
    assert uses_opencv("opencv", _FakeRuntime("CUDAExecutionProvider"))
    assert not uses_opencv("graph", _FakeRuntime("CPUExecutionProvider"))
    with pytest.raises(ValueError):
        uses_opencv("fast", _FakeRuntime("CPUExecutionProvider"))


def test_drawn_boxes_merge_where_they_overlap():
    from core.render.overlays import Overlay

    overlay = Overlay(100, 80)
    pts = np.array([[10.0, 10.0], [20.0, 20.0]])
    assert overlay.drawn() == []
    overlay.box(pts, 0)  # (10, 10, 20, 20)
    overlay.box(pts + 5, 0)  # overlaps the first
    overlay.box(pts + 50, 0)  # apart
    assert sorted(overlay.drawn()) == [(10, 10, 25, 25), (60, 60, 70, 70)]
    overlay.clear()
    assert overlay.drawn() == []
