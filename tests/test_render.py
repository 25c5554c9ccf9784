"""The warp renderer, measured on its output with the landmark model."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import portrait_path

from core.face.portrait import load_image
from core.face.regions import EYES
from core.quality.evaluate import measure_eyes
from core.render.warp import WarpRenderer
from core.runtime.factory import landmark_meter


def _portrait(name: str) -> np.ndarray:
    return load_image(portrait_path(name))


@pytest.fixture(scope="module")
def analyzer():
    return landmark_meter()


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
    # Speech's range (talkers' jawOpen p90 is about 0.4): above it the landmark model's
    # reading of a rendered mouth levels off near 0.17 face widths.
    half = _mouth_opening(analyzer.measure(renderer.render({"jawOpen": 0.15})))
    full = _mouth_opening(analyzer.measure(renderer.render({"jawOpen": 0.45})))
    # (The astronaut already smiles with parted lips and her upper teeth showing: they stay
    # whole on her upper lip, the mouth's shadow below them.)
    assert half > before + 0.012
    assert full > half + 0.01


def test_open_mouth_shows_dark_interior(setup):
    image, face, renderer = setup
    frame = renderer.render({"jawOpen": 0.8})
    masks = renderer.overlay_region()
    mask = (masks[0] > 0.9) & (masks[1] < 0.1)  # the opening, teeth left out
    assert mask.sum() > 20, "no mouth interior drawn"
    r = renderer.region
    inside = frame[r.y0 : r.y1, r.x0 : r.x1][mask].mean()
    lips = image[r.y0 : r.y1, r.x0 : r.x1][mask].mean()  # what was there in the photo
    assert inside < 60 and inside < 0.6 * lips


def test_far_pixels_do_not_change(setup):
    image, face, renderer = setup
    frame = renderer.render(
        {"jawOpen": 1.0, "head_yaw": 12.0, "head_pitch": -8.0, "head_roll": 6.0, "head_x": 0.05}
    )
    r = renderer.region
    outside = np.ones(image.shape[:2], bool)
    outside[r.y0 : r.y1, r.x0 : r.x1] = False
    np.testing.assert_array_equal(frame[outside], image[outside])
    # the region is the head's neighbourhood, not the whole picture
    fw = renderer.deformer.fw
    assert r.size[0] <= 4.3 * fw + 2
    # and pixels at the region's edges inside the picture barely move (an edge on the
    # picture's own border may: nothing lies beyond it)
    edge = np.abs(frame[r.y0 : r.y1, r.x0 : r.x1].astype(int) - image[r.y0 : r.y1, r.x0 : r.x1])
    h, w = image.shape[:2]
    strips = [
        (r.x0 > 0, edge[:, :2]),
        (r.x1 < w, edge[:, -2:]),
        (r.y0 > 0, edge[:2]),
        (r.y1 < h, edge[-2:]),
    ]
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


def test_blink_closes_eyes_measured(setup, analyzer):
    image, face, renderer = setup

    def eyes(ch):
        return np.array(measure_eyes(analyzer, renderer.render(ch)))

    before = np.array(measure_eyes(analyzer, image))
    half = eyes({"eyeBlinkLeft": 0.5, "eyeBlinkRight": 0.5})
    shut = eyes({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})
    assert np.all(shut < 0.75 * before) and np.all(shut < half) and np.all(half < before)
    # One eye alone: the other stays open.
    right_only = eyes({"eyeBlinkRight": 1.0})
    assert right_only[0] < 0.75 * before[0] and right_only[1] > 0.9 * before[1]


def test_blink_paints_a_lid_without_moving_the_iris(setup):
    image, face, renderer = setup
    frame = renderer.render({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})
    lid = renderer.overlay_region()[3]
    assert lid.max() > 0.9
    # The iris is covered, not squeezed: the warp leaves the eyes where they were.
    field = renderer.forward_field({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})
    r = renderer.region
    for e in range(2):
        cx, cy = face.iris[e, 0, :2] - [r.x0, r.y0]
        gy, gx = np.unravel_index(
            np.argmin(np.hypot(renderer.tps.grid[..., 0] - cx, renderer.tps.grid[..., 1] - cy)),
            renderer.tps.grid.shape[:2],
        )
        upper, lower, _ = EYES[e]
        opening = np.median(face.landmarks[list(lower), 1] - face.landmarks[list(upper), 1])
        assert np.abs(field[gy, gx]).max() < 0.15 * opening
    for upper, lower, _ in EYES:
        pts = face.landmarks[list(upper) + list(lower), :2]
        x0, y0 = np.floor(pts.min(0)).astype(int)
        x1, y1 = np.ceil(pts.max(0)).astype(int)
        still = np.abs(frame[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1]).mean()
        assert still > 3.0, "the eye did not change when blinking"


def _iris_offset(analyzer, frame, face) -> np.ndarray:
    """Measured iris centres relative to the eye corners, in eye widths, both eyes."""
    lm = analyzer.measure(frame)
    iris, _ = analyzer.irises(frame, lm)
    out = []
    for e, (a, b) in enumerate(((33, 133), (263, 362))):
        mid = (lm[a, :2] + lm[b, :2]) / 2
        out.append((iris[e, 0, :2] - mid) / np.linalg.norm(lm[a, :2] - lm[b, :2]))
    return np.array(out)


def test_gaze_moves_irises_measured(setup, analyzer):
    image, face, renderer = setup
    still = _iris_offset(analyzer, image, face)
    right = _iris_offset(analyzer, renderer.render({"gaze_yaw": 30.0}), face)
    left = _iris_offset(analyzer, renderer.render({"gaze_yaw": -30.0}), face)
    assert np.all(right[:, 0] > still[:, 0] + 0.04)
    assert np.all(left[:, 0] < still[:, 0] - 0.04)
    # The head does not move with the eyes.
    frame = renderer.render({"gaze_yaw": 30.0})
    lm0, lm1 = analyzer.measure(image), analyzer.measure(frame)
    assert np.abs(lm1[1, :2] - lm0[1, :2]).max() < 1.5


def test_mouth_channels_show_measured(setup, analyzer):
    image, face, renderer = setup
    fw = renderer.deformer.fw

    def mouth(ch):
        lm = analyzer.measure(renderer.render(ch))
        return lm[[61, 291], :2], _mouth_opening(lm)

    (corners0, open0) = mouth({})
    width0 = np.linalg.norm(corners0[1] - corners0[0])
    corners, _ = mouth({"mouthSmileLeft": 1.0, "mouthSmileRight": 1.0})
    assert np.linalg.norm(corners[1] - corners[0]) > width0 + 0.015 * fw
    assert corners[:, 1].mean() < corners0[:, 1].mean() - 0.01 * fw  # corners rise
    corners, _ = mouth({"mouthFrownLeft": 1.0, "mouthFrownRight": 1.0})
    assert corners[:, 1].mean() > corners0[:, 1].mean() + 0.005 * fw
    corners, _ = mouth({"mouthPucker": 1.0})
    assert np.linalg.norm(corners[1] - corners[0]) < width0 - 0.02 * fw
    # mouthClose over an open jaw: the lips meet again, no dark opening between them.
    lips = face.landmarks[[61, 291, 0, 17], :2]
    x0, y0 = np.floor(lips.min(0)).astype(int)
    x1, y1 = np.ceil(lips.max(0) + [0, 0.1 * renderer.deformer.fh]).astype(int)

    def darkness(ch):
        return 255 - renderer.render(ch)[y0:y1, x0:x1].mean()

    assert darkness({"jawOpen": 0.7, "mouthClose": 1.0}) < darkness({"jawOpen": 0.7}) - 5
    assert renderer.deformer.mouth_opening({"jawOpen": 0.7, "mouthClose": 1.0}) is None
    _, funnel = mouth({"mouthFunnel": 1.0, "jawOpen": 0.3})
    _, jaw_small = mouth({"jawOpen": 0.3})
    assert funnel > jaw_small
    # Press thins the lips: the pixels of the lips change, the jaw does not open.
    pressed = renderer.render({"mouthPressLeft": 1.0, "mouthPressRight": 1.0})
    x0, y0 = np.floor(lips.min(0)).astype(int)
    x1, y1 = np.ceil(lips.max(0)).astype(int)
    assert np.abs(pressed[y0:y1, x0:x1].astype(int) - image[y0:y1, x0:x1]).mean() > 2.0
    assert _mouth_opening(analyzer.measure(pressed)) < open0 + 0.01


def test_mouth_interior_has_teeth_and_throat(setup):
    image, face, renderer = setup
    frame = renderer.render({"jawOpen": 1.0})
    m = renderer.overlay_region()
    r = renderer.region
    region = frame[r.y0 : r.y1, r.x0 : r.x1].astype(float)
    throat = (m[2] > 0.6) & (m[0] > 0.9)
    assert throat.sum() > 5
    assert region[throat].mean() < 0.5 * image[r.y0 : r.y1, r.x0 : r.x1][throat].mean()
    if renderer.deformer.photo_gap < 0.01 * renderer.deformer.fh:  # no teeth in the photo
        teeth = (m[1] > 0.6) & (m[0] > 0.9)
        assert teeth.sum() > 5
        assert region[teeth].mean() > region[throat].mean() + 60  # light teeth, dark throat
    # Soft edges: the mask ramps, so no box is visible at the lips.
    edge = (m[0] > 0.05) & (m[0] < 0.95)
    assert edge.sum() > 0.2 * (m[0] > 0.95).sum() ** 0.5 * 4


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


@pytest.mark.parametrize(
    "pose",
    [
        {"head_yaw": -20.0},
        {"head_yaw": 20.0},
        {"head_pitch": 20.0},
        {"head_pitch": -20.0},
        {"head_roll": 20.0},
        {"head_x": 0.15, "head_scale": 1.15},
        {"head_yaw": 15.0, "head_pitch": 10.0, "jawOpen": 1.0},
    ],
)
def test_pose_does_not_tear(setup, pose):
    """The warp stays one-to-one: no part of the picture folds over another."""
    _, _, renderer = setup
    field = renderer.forward_field(pose)
    cell = float(renderer.tps.grid[0, 1, 0] - renderer.tps.grid[0, 0, 0])
    dx = np.gradient(field[..., 0], axis=1) / cell + 1.0
    dy = np.gradient(field[..., 1], axis=0) / cell + 1.0
    cross = (np.gradient(field[..., 0], axis=0) * np.gradient(field[..., 1], axis=1)) / cell**2
    assert (dx * dy - cross).min() > 0.2


def test_added_channels_show_measured(setup, analyzer):
    """mouthRollLower, browOuterUp* and eyeWide* (added for lip sync and emotions)."""
    image, face, renderer = setup
    fw = renderer.deformer.fw
    lm0 = analyzer.measure(image)
    rolled = analyzer.measure(renderer.render({"mouthRollLower": 1.0}))
    assert rolled[14, 1] < lm0[14, 1] - 0.01 * fw  # the lower lip tucks up
    brows = analyzer.measure(renderer.render({"browOuterUpLeft": 1.0, "browOuterUpRight": 1.0}))
    outer = [70, 46, 300, 276]  # the outer ends of the brows rise
    assert np.mean(lm0[outer, 1] - brows[outer, 1]) > 0.006 * fw
    wide = np.array(
        measure_eyes(analyzer, renderer.render({"eyeWideLeft": 1.0, "eyeWideRight": 1.0}))
    )
    # (the landmark models read a lifted lid modestly: a few per cent)
    assert np.all(wide > np.array(measure_eyes(analyzer, image)) * 1.01)


def test_4096_output_moves_only_the_head(analyzer):
    """The long side at the 4096-pixel limit: full-size frames, only the head's rectangle
    changes."""
    import cv2

    small = _portrait("full_body_1.png")
    image = cv2.resize(small, (2731, 4096), interpolation=cv2.INTER_CUBIC)
    renderer = WarpRenderer(image, analyzer.analyze(image))
    frame = renderer.render(
        {"jawOpen": 0.6, "head_yaw": 10.0, "eyeBlinkLeft": 1.0, "gaze_yaw": 20.0}
    )
    assert frame.shape == image.shape
    r = renderer.region
    outside = np.ones(image.shape[:2], bool)
    outside[r.y0 : r.y1, r.x0 : r.x1] = False
    assert np.array_equal(frame[outside], image[outside])
    assert r.size[0] * r.size[1] < 0.35 * image.shape[0] * image.shape[1]
    lm = analyzer.measure(frame)
    assert lm is not None and _mouth_opening(lm) > _mouth_opening(analyzer.measure(image))
