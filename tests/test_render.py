"""The warp renderer, measured on its output with the landmark model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.face import FaceAnalyzer
from core.face_regions import EYES
from core.image import load_image
from core.render import WarpRenderer

ROOT = Path(__file__).resolve().parents[1]
PORTRAITS = ROOT.parent / "shared" / "data" / "portraits"


def _portrait(name: str) -> np.ndarray:
    path = ROOT / "samples" / name if name == "astronaut.png" else PORTRAITS / name
    if not path.exists():
        pytest.skip(f"{path} is not available (shared test data missing)")
    return load_image(path)


@pytest.fixture(scope="module")
def analyzer():
    return FaceAnalyzer()


@pytest.fixture(scope="module", params=["astronaut.png", "sad.png", "art_1.png"])
def setup(request, analyzer):
    image = _portrait(request.param)
    face = analyzer.analyze(image)
    return image, face, WarpRenderer(image, face)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def _mouth_opening(landmarks: np.ndarray) -> float:
    width = landmarks[:, 0].max() - landmarks[:, 0].min()
    return float(np.linalg.norm(landmarks[14, :2] - landmarks[13, :2]) / width)


def test_zero_motion_reproduces_source(setup):
    image, _, renderer = setup
    frame = renderer.render({})
    assert frame.shape == image.shape and frame.dtype == np.uint8
    assert _psnr(frame, image) >= 45.0


def test_open_jaw_opens_mouth_measured(setup, analyzer):
    image, face, renderer = setup
    before = _mouth_opening(analyzer.measure(image))
    half = _mouth_opening(analyzer.measure(renderer.render({"jawOpen": 0.5})))
    full = _mouth_opening(analyzer.measure(renderer.render({"jawOpen": 0.8})))
    assert half > before + 0.02
    assert full > half + 0.01


def test_open_mouth_shows_dark_interior(setup):
    image, face, renderer = setup
    frame = renderer.render({"jawOpen": 0.8})
    mask = renderer.mask[0, 0] > 0.9
    assert mask.sum() > 20, "no mouth interior drawn"
    r = renderer.region
    inside = frame[r.y0:r.y1, r.x0:r.x1][mask].mean()
    lips = image[r.y0:r.y1, r.x0:r.x1][mask].mean()  # what was there in the photo
    assert inside < 60 and inside < 0.6 * lips


def test_far_pixels_do_not_change(setup):
    image, face, renderer = setup
    frame = renderer.render({"jawOpen": 1.0, "head_yaw": 12.0, "head_pitch": -8.0,
                             "head_roll": 6.0, "head_x": 0.05})
    r = renderer.region
    outside = np.ones(image.shape[:2], bool)
    outside[r.y0:r.y1, r.x0:r.x1] = False
    np.testing.assert_array_equal(frame[outside], image[outside])
    # the region is the head's neighbourhood, not the whole picture
    fw = renderer.deformer.fw
    assert r.size[0] <= 4.3 * fw + 2
    # and pixels at the region's edges inside the picture barely move (an edge on the
    # picture's own border may: nothing lies beyond it)
    edge = np.abs(frame[r.y0:r.y1, r.x0:r.x1].astype(int) - image[r.y0:r.y1, r.x0:r.x1])
    h, w = image.shape[:2]
    strips = [(r.x0 > 0, edge[:, :2]), (r.x1 < w, edge[:, -2:]),
              (r.y0 > 0, edge[:2]), (r.y1 < h, edge[-2:])]
    for inside, strip in strips:
        if inside:
            assert strip.mean() < 1.0


def test_head_pose_moves_the_face_measured(setup, analyzer):
    image, face, renderer = setup
    nose = face.landmarks[1, :2]
    fw = renderer.deformer.fw
    right = analyzer.measure(renderer.render({"head_yaw": 10.0}))[1, :2]
    up = analyzer.measure(renderer.render({"head_pitch": 10.0}))[1, :2]
    assert right[0] - nose[0] > 0.04 * fw
    assert nose[1] - up[1] > 0.04 * fw


def test_blink_closes_eyes(setup):
    image, face, renderer = setup
    blink = {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}
    # Geometry: each upper lid ends within 15% of the opening above its lower lid.
    targets = renderer.deformer.targets(blink)
    for upper, lower, _ in EYES:
        gap_before = face.landmarks[list(lower), 1] - face.landmarks[list(upper), 1]
        gap_after = targets[list(lower), 1] - targets[list(upper), 1]
        assert np.all(gap_after < 0.15 * gap_before + 0.5)
    # On the frame: the pixels between the lids change (the lid slides over the iris).
    # A landmark-model measure of blinks on rendered frames belongs to the renderer issue:
    # MediaPipe's 468-point model barely reads closed lids on this warp yet.
    frame = renderer.render(blink)
    for upper, lower, _ in EYES:
        pts = face.landmarks[list(upper) + list(lower), :2]
        x0, y0 = np.floor(pts.min(0)).astype(int)
        x1, y1 = np.ceil(pts.max(0)).astype(int)
        still = np.abs(frame[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1]).mean()
        assert still > 3.0, "the eye did not change when blinking"


def test_full_resolution_output(analyzer):
    image = _portrait("full_body_1.png")
    renderer = WarpRenderer(image, analyzer.analyze(image))
    frame = renderer.render({"jawOpen": 0.5, "head_yaw": 5.0})
    assert frame.shape == image.shape
    changed = np.argwhere(np.any(frame != image, axis=2))
    assert len(changed) > 0
    r = renderer.region
    assert changed[:, 0].min() >= r.y0 and changed[:, 0].max() < r.y1
    assert changed[:, 1].min() >= r.x0 and changed[:, 1].max() < r.x1
