"""Tests for the face analysis stack: detector decode, converted models, landmarks, irises,
and reading portraits (core.face, core.face.detect, core.face.roi, core.face.portrait).

The FaceAnalyzer is created once per module; every analysis runs on CPU in ~50 ms.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import DATA, SAMPLE_IMAGE, portrait_path

from core.errors import ImageError
from core.face import detect as face_detect
from core.face.analyzer import FaceAnalyzer
from core.face.portrait import MAX_SIDE, MIN_SIDE, load_image, to_rgb8
from core.face.regions import LEFT_EYE_LOWER, LEFT_EYE_UPPER, RIGHT_EYE_LOWER, RIGHT_EYE_UPPER
from core.face.roi import Roi, roi_from_keypoints
from core.face.source import SourceFace
from core.runtime.factory import landmark_meter
from core.runtime.packs import open_pack

PORTRAITS = ("astronaut", "art_1", "art_16", "full_body_1", "happy", "people_0", "sad")

# The first 16 points of the iris model's eye contour are these mesh landmarks (MediaPipe's
# face-landmark refinement uses the same correspondence), subject's right eye first.
EYE_CONTOUR_MESH = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173),
    (263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398),
)
# Per eye (subject's right eye first, like SourceFace.iris): upper lid, lower lid, and the
# corner next to the first / last upper-lid point, so the polygon runs round the eye.
EYE_OUTLINES = (
    (RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, 33, 133),
    (LEFT_EYE_UPPER, LEFT_EYE_LOWER, 263, 362),
)


@cache
def _load(path: Path) -> np.ndarray:
    return load_image(path)


def portrait(name: str) -> np.ndarray:
    image = _load(portrait_path(name))
    image.setflags(write=False)  # shared between tests: nobody may change it
    return image


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return landmark_meter()


@pytest.fixture(scope="module")
def analyzed(analyzer):
    """name -> SourceFace, each portrait analysed once per module."""
    cache: dict[str, SourceFace] = {}

    def get(name: str) -> SourceFace:
        if name not in cache:
            cache[name] = analyzer.analyze(portrait(name), source=f"{name}.png")
        return cache[name]

    return get


def box_centre(box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2])


# -- 1. every portrait: one face, sane geometry ------------------------------------------
@pytest.mark.parametrize("name", PORTRAITS)
def test_one_face_with_plausible_geometry(analyzed, name):
    face = analyzed(name)
    assert face.n_faces == 1
    assert face.notes == []
    lm = face.landmarks
    assert lm.shape == (468, 3)
    assert np.isfinite(lm).all()
    h, w = portrait(name).shape[:2]
    assert face.image_size == (w, h)

    # All landmarks inside the detector box scaled by 1.25 about its centre.
    x0, y0, x1, y1 = face.box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    hw, hh = (x1 - x0) * 1.25 / 2, (y1 - y0) * 1.25 / 2
    assert x1 > x0 and y1 > y0
    assert lm[:, 0].min() >= cx - hw and lm[:, 0].max() <= cx + hw
    assert lm[:, 1].min() >= cy - hh and lm[:, 1].max() <= cy + hh

    # Upright anatomy: eyes above the lips above the chin; subject's right eye on the left.
    eyes_y = lm[[33, 133, 362, 263], 1].mean()
    assert eyes_y < lm[13, 1] and eyes_y < lm[14, 1]
    assert max(lm[13, 1], lm[14, 1]) < lm[152, 1]
    assert lm[33, 0] < lm[263, 0]

    assert face.iris.shape == (2, 5, 3)
    assert face.eye_contours.shape == (2, 71, 3)
    width = face.face_width
    assert width > 0
    for e, (upper, lower, first, last) in enumerate(EYE_OUTLINES):
        outline = [first, *upper, last, *reversed(lower)]
        polygon = lm[outline, :2].astype(np.float32).reshape(-1, 1, 2)
        centre = face.iris[e, 0, :2]
        inside = cv2.pointPolygonTest(polygon, (float(centre[0]), float(centre[1])), False)
        assert inside > 0, f"iris {e} centre {centre} is outside its eye"
        radius = np.linalg.norm(face.iris[e, 1:5, :2] - centre, axis=1).mean()
        assert 0.02 * width < radius < 0.12 * width, (e, radius / width)


@pytest.mark.parametrize("name", PORTRAITS)
def test_iris_model_eye_contour_matches_mesh(analyzed, name):
    """The iris model's eye outline (crop, mirror for the left eye, map back) lies on the
    mesh's eye landmarks; a missing un-mirror swaps the corners of the left eye."""
    face = analyzed(name)
    for e, indices in enumerate(EYE_CONTOUR_MESH):
        d = (
            np.linalg.norm(
                face.eye_contours[e, :16, :2] - face.landmarks[list(indices), :2], axis=1
            )
            / face.face_width
        )
        assert d.mean() < 0.025 and d.max() < 0.04, (e, d.mean(), d.max())


# -- 2. against MediaPipe FaceMesh itself ------------------------------------------------
@pytest.fixture(scope="module")
def facemesh_reference() -> dict[str, np.ndarray]:
    with np.load(DATA / "facemesh_reference.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("name", PORTRAITS)
def test_landmarks_match_mediapipe(analyzed, facemesh_reference, name):
    face = analyzed(name)
    key = f"{name}.png"
    assert key in facemesh_reference, f"no FaceMesh reference for {key}"
    ref = facemesh_reference[key]
    assert ref.shape == (468, 3)
    err = np.linalg.norm(face.landmarks[:, :2] - ref[:, :2], axis=1) / face.face_width
    assert err.mean() < 0.015, f"mean error {err.mean():.4f} of face width"
    assert err.max() < 0.04, f"max error {err.max():.4f} of face width"


# -- 3. converted ONNX models reproduce TFLite -------------------------------------------
@pytest.fixture(scope="module")
def model_reference() -> dict[str, np.ndarray]:
    with np.load(DATA / "face_model_reference.npz") as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("model", ["face_detector", "face_landmarks", "iris_landmarks"])
def test_converted_models_match_tflite(model_reference, model):
    sess = open_pack().session(model)
    lo, hi = (float(v) for v in model_reference[f"{model}/range"])
    x = model_reference[f"{model}/input_uint8"].astype(np.float32) / 255.0 * (hi - lo) + lo
    names = [o.name for o in sess.get_outputs()]
    outputs = dict(zip(names, sess.run(None, {sess.get_inputs()[0].name: x[None]}), strict=True))
    expected = {
        k.split("/output/", 1)[1]: v
        for k, v in model_reference.items()
        if k.startswith(f"{model}/output/")
    }
    assert expected and set(expected) == set(outputs)
    for name, want in expected.items():
        got = outputs[name]
        assert got.shape == want.shape, name
        scale = float(np.abs(want).max())
        assert scale > 0, name
        err = float(np.abs(got - want).max())
        assert err <= 1e-4 * scale, f"{model}.{name}: max error {err} vs magnitude {scale}"


def test_detector_pipeline_matches_tflite(analyzer, model_reference):
    """Preprocessing (-1..1), decode and NMS on the reference input give TFLite's boxes."""
    image = model_reference["face_detector/input_uint8"]
    got = analyzer._detect_in(image, Roi(64, 64, 128))  # identity crop
    regressors = model_reference["face_detector/output/regressors"][0]
    scores = model_reference["face_detector/output/classificators"][0]
    want = face_detect.weighted_nms(*face_detect.decode(regressors, scores))
    assert len(got) == len(want) >= 1
    for det, (box, score, kps) in zip(got, want, strict=True):
        np.testing.assert_allclose(det.box, box * 128, atol=2e-3)
        np.testing.assert_allclose(det.keypoints, kps * 128, atol=2e-3)
        assert det.score == pytest.approx(score, abs=1e-5)


def test_landmark_pipeline_matches_tflite(analyzer, model_reference):
    """Preprocessing (0..1) and projection of the landmark model on an identity crop."""
    image = model_reference["face_landmarks/input_uint8"]
    points, presence = analyzer.landmarks(image, Roi(96, 96, 192))
    want = model_reference["face_landmarks/output/conv2d_21"].reshape(468, 3)
    np.testing.assert_allclose(points, want, atol=1e-4 * np.abs(want).max())
    flag = float(model_reference["face_landmarks/output/conv2d_31"].reshape(-1)[0])
    assert presence == pytest.approx(1 / (1 + np.exp(-flag)))


# -- 4. detector decode and weighted NMS -------------------------------------------------
def test_anchors():
    a = face_detect.anchors()
    assert a.shape == (896, 2)
    assert (a > 0).all() and (a < 1).all()
    # 16x16 cells x 2 anchors at stride 8, then 8x8 cells x 6 anchors at stride 16.
    assert len(np.unique(a[:512], axis=0)) == 256
    assert len(np.unique(a[512:], axis=0)) == 64
    np.testing.assert_allclose(a[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(a[512], [0.5 / 8, 0.5 / 8])


def test_decode_puts_box_on_anchor():
    a = face_detect.anchors()
    reg = np.zeros((896, 16), np.float32)
    scores = np.full(896, -20.0, np.float32)
    i = 300
    scores[i] = 8.0
    boxes, probs, kps = face_detect.decode(reg, scores)
    assert boxes.shape == (1, 4) and probs.shape == (1,) and kps.shape == (1, 6, 2)
    assert probs[0] > 0.99
    np.testing.assert_allclose(box_centre(boxes[0]), a[i], atol=1e-6)
    np.testing.assert_allclose(kps[0], np.repeat(a[i][None], 6, 0), atol=1e-6)

    # Offsets and sizes are in input pixels (128).
    reg[i, :4] = [12.8, -6.4, 32.0, 64.0]
    reg[i, 4:6] = [6.4, 0.0]
    boxes, _, kps = face_detect.decode(reg, scores)
    centre = a[i] + [0.1, -0.05]
    np.testing.assert_allclose(box_centre(boxes[0]), centre, atol=1e-6)
    np.testing.assert_allclose(boxes[0, 2:] - boxes[0, :2], [0.25, 0.5], atol=1e-6)
    np.testing.assert_allclose(kps[0, 0], a[i] + [0.05, 0.0], atol=1e-6)

    # Below MIN_SCORE (sigmoid 0.5) nothing survives.
    scores[i] = -0.1
    boxes, probs, kps = face_detect.decode(reg, scores)
    assert len(boxes) == len(probs) == len(kps) == 0


def test_weighted_nms_merges_overlap_and_keeps_far_box():
    boxes = np.array([[0.0, 0.0, 1.0, 1.0], [5.0, 5.0, 6.0, 6.0], [0.1, 0.1, 1.1, 1.1]])
    scores = np.array([0.9, 0.7, 0.6])
    kps = np.stack([np.full((6, 2), v) for v in (1.0, 9.0, 2.0)])
    out = face_detect.weighted_nms(boxes, scores, kps)
    assert len(out) == 2
    (box0, s0, k0), (box1, s1, k1) = out
    assert s0 == pytest.approx(0.9) and s1 == pytest.approx(0.7)
    w = np.array([0.9, 0.6]) / 1.5
    np.testing.assert_allclose(box0, w[0] * boxes[0] + w[1] * boxes[2])
    np.testing.assert_allclose(k0, np.full((6, 2), w[0] * 1.0 + w[1] * 2.0))
    np.testing.assert_allclose(box1, boxes[1])
    np.testing.assert_allclose(k1, kps[1])


# -- 5. several faces -> the largest ------------------------------------------------------
@pytest.mark.parametrize("big_on_right", [True, False], ids=["big-right", "big-left"])
def test_several_faces_pick_largest(analyzer, big_on_right):
    small = portrait("happy")
    assert small.shape[:2] == (256, 256)
    big = cv2.resize(small, (384, 384), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((400, 700, 3), 128, np.uint8)
    if big_on_right:
        small_at, big_at = (20, 72), (300, 8)  # (x, y) of each copy's top-left corner
    else:
        small_at, big_at = (420, 72), (10, 8)
    canvas[small_at[1] : small_at[1] + 256, small_at[0] : small_at[0] + 256] = small
    canvas[big_at[1] : big_at[1] + 384, big_at[0] : big_at[0] + 384] = big

    face = analyzer.analyze(canvas)
    cx, cy = box_centre(face.box)
    assert big_at[0] < cx < big_at[0] + 384 and big_at[1] < cy < big_at[1] + 384
    assert face.n_faces == 2
    assert any("2 faces" in note for note in face.notes), face.notes
    # The landmarks are those of the big copy too.
    assert big_at[0] <= face.landmarks[:, 0].min() and face.landmarks[:, 0].max() <= big_at[0] + 384


# -- 6. no face / a small face in a big image ---------------------------------------------
@pytest.mark.parametrize("kind", ["flat", "gradient", "noise"])
def test_no_face_raises(analyzer, kind):
    if kind == "flat":
        image = np.full((480, 640, 3), 128, np.uint8)
    elif kind == "gradient":
        ramp = np.linspace(0, 255, 640).astype(np.uint8)
        image = np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], (480, 640, 3)))
    else:
        image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    with pytest.raises(ImageError, match="(?i)no face found") as info:
        analyzer.analyze(image, source=f"{kind}.png")
    assert f"{kind}.png" in str(info.value)
    assert analyzer.measure(image) is None


@pytest.mark.parametrize(
    ("size", "at"),
    [
        pytest.param(110, (1000, 700)),
        pytest.param(150, (1000, 700)),
        pytest.param(190, (180, 140)),
    ],
    ids=["110px", "150px", "190px"],
)
def test_small_face_in_big_image(analyzer, analyzed, size, at):
    source = portrait("happy")
    small = cv2.resize(source, (size, size), interpolation=cv2.INTER_AREA)
    canvas = np.full((1000, 1400, 3), 120, np.uint8)
    x, y = at
    canvas[y : y + size, x : x + size] = small
    # The face is far too small for the whole-image pass: only the tiled search can find it.
    face = analyzer.analyze(canvas, source="small-face.png")
    assert face.n_faces == 1
    expected = box_centre(analyzed("happy").box) * size / 256 + [x, y]
    assert np.linalg.norm(box_centre(face.box) - expected) < 0.1 * size
    assert x - 0.1 * size < face.landmarks[:, 0].min()
    assert face.landmarks[:, 0].max() < x + 1.1 * size


def test_whole_image_pass_misses_the_small_face(analyzer):
    """Guards the test above: the 150 px case really needs the tiled search."""
    small = cv2.resize(portrait("happy"), (150, 150), interpolation=cv2.INTER_AREA)
    canvas = np.full((1000, 1400, 3), 120, np.uint8)
    canvas[700:850, 1000:1150] = small
    assert analyzer._detect_in(canvas, Roi(700, 500, 1400)) == []


# -- 7. rotated face -----------------------------------------------------------------------
@pytest.mark.parametrize("degrees", [25.0, -25.0])
def test_rotated_face(analyzer, analyzed, degrees):
    image = portrait("happy")
    upright = analyzed("happy")
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)  # counter-clockwise on screen
    rotated = cv2.warpAffine(
        image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    face = analyzer.analyze(rotated)
    assert face.n_faces == 1
    # cv2.warpAffine maps pixel centres; landmarks are edge-based (centre at +0.5).
    expected = (upright.landmarks[:, :2] - 0.5) @ m[:, :2].T + m[:, 2] + 0.5
    err = np.linalg.norm(face.landmarks[:, :2] - expected, axis=1) / upright.face_width
    assert err.max() < 0.03, f"max error {err.max():.4f} of face width"
    # Roi.angle is clockwise on screen, the opposite of cv2's angle.
    angle = np.degrees(face.roi.angle)
    assert abs(abs(angle) - 25.0) <= 7.0, angle
    assert np.sign(angle) == -np.sign(degrees)
    assert abs(np.degrees(upright.roi.angle)) < 5.0


# -- 8. reading images --------------------------------------------------------------------
def test_load_missing_file(tmp_path):
    path = tmp_path / "nowhere.png"
    with pytest.raises(ImageError, match="nowhere.png"):
        load_image(path)


def test_load_empty_file(tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.png"):
        load_image(path)


def test_load_garbage(tmp_path):
    path = tmp_path / "garbage.png"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    with pytest.raises(ImageError, match="garbage.png"):
        load_image(path)


def test_load_directory_is_not_an_image(tmp_path):
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(ImageError, match="folder.png"):
        load_image(folder)


def _write(path: Path, bgr_like: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), bgr_like)
    return path


def test_load_rgb_channel_order(tmp_path):
    bgr = np.zeros((80, 96, 3), np.uint8)
    bgr[..., 0] = 200  # blue in OpenCV's order
    bgr[:, :10, 2] = 50
    image = load_image(_write(tmp_path / "blue.png", bgr))
    assert image.dtype == np.uint8 and image.shape == (80, 96, 3)
    assert (image[:, 20:] == [0, 0, 200]).all()
    assert (image[:, :10] == [50, 0, 200]).all()


def test_load_rgba_composites_over_black(tmp_path):
    bgra = np.zeros((70, 90, 4), np.uint8)
    bgra[..., :3] = [10, 100, 250]
    bgra[:, :45, 3] = 255
    bgra[:, 45:, 3] = 0
    image = load_image(_write(tmp_path / "rgba.png", bgra))
    assert image.dtype == np.uint8 and image.shape == (70, 90, 3)
    assert (image[:, :45] == [250, 100, 10]).all()
    assert (image[:, 45:] == 0).all()


def test_load_16bit(tmp_path):
    bgr16 = np.zeros((64, 64, 3), np.uint16)
    bgr16[..., 0] = 65535
    bgr16[..., 1] = 60000  # 233 when scaled; 96 if the high byte were dropped
    bgr16[..., 2] = 1000  # 3 when scaled
    image = load_image(_write(tmp_path / "deep.png", bgr16))
    assert image.dtype == np.uint8 and image.shape == (64, 64, 3)
    assert (image == [3, 233, 255]).all()


def test_load_grayscale(tmp_path):
    grey = np.tile(np.arange(100, dtype=np.uint8)[None], (65, 1))
    image = load_image(_write(tmp_path / "grey.png", grey))
    assert image.dtype == np.uint8 and image.shape == (65, 100, 3)
    for c in range(3):
        np.testing.assert_array_equal(image[..., c], grey)


def test_load_too_small(tmp_path):
    path = _write(tmp_path / "tiny.png", np.zeros((32, 32, 3), np.uint8))
    with pytest.raises(ImageError, match="pixels") as info:
        load_image(path)
    assert "tiny.png" in str(info.value) and "32x32" in str(info.value)


def test_size_limits():
    to_rgb8(np.zeros((MIN_SIDE, MIN_SIDE, 3), np.uint8))  # the smallest allowed
    with pytest.raises(ImageError, match="pixels"):
        to_rgb8(np.zeros((MIN_SIDE, MIN_SIDE - 1, 3), np.uint8))
    with pytest.raises(ImageError, match=str(MAX_SIDE)):
        to_rgb8(np.zeros((MIN_SIDE, MAX_SIDE + 1, 3), np.uint8))


def test_load_real_portrait():
    image = load_image(SAMPLE_IMAGE)
    assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    assert image.flags.c_contiguous


# -- rotated crops (core.face.roi) -----------------------------------------------------
def test_roi_matrices_are_inverse_and_rotate_clockwise():
    roi = Roi(120.0, 80.0, 64.0, np.radians(30))
    crop, uncrop = roi.crop_matrix(32), roi.uncrop_matrix(32)
    np.testing.assert_allclose(crop[:, :2] @ uncrop[:, :2], np.eye(2), atol=1e-9)
    np.testing.assert_allclose(crop[:, :2] @ uncrop[:, 2] + crop[:, 2], 0, atol=1e-9)
    pts = roi.to_image(np.array([[16.0, 16.0, 4.0], [32.0, 16.0, 0.0]]), 32)
    np.testing.assert_allclose(pts[0], [120.0, 80.0, 8.0], atol=1e-4)  # z scales with size
    # The crop's right edge lies 30 degrees clockwise on screen (y down) from the x axis.
    a = np.radians(30)
    np.testing.assert_allclose(pts[1, :2], [120 + 32 * np.cos(a), 80 + 32 * np.sin(a)], atol=1e-4)


@pytest.mark.parametrize(
    ("roi", "out", "sigma", "tol"),
    [
        (Roi(420.3, 390.7, 96.0, 0.3), 64, 4.0, 0.02),
        (Roi(460.0, 400.0, 120.0, -0.5), 64, 5.0, 0.02),
        (Roi(450.0, 400.0, 700.0, 0.2), 64, 30.0, 0.1),  # area-averaged before warping
    ],
    ids=["small", "negative-angle", "shrunk"],
)
def test_roi_crop_and_to_image_agree(roi, out, sigma, tol):
    """A blob cropped by a ROI and mapped back with to_image lands where it was drawn."""
    h, w = 800, 1000
    at = np.array([430.5, 380.5])  # edge-based: the centre of pixel (row 380, column 430)
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    blob = np.exp(-((xs - at[0]) ** 2 + (ys - at[1]) ** 2) / (2 * sigma**2))
    image = np.repeat((blob * 255).astype(np.float32)[..., None], 3, axis=2)
    patch = roi.crop(image, out, border=cv2.BORDER_CONSTANT)[..., 0].astype(np.float64)
    assert patch.shape == (out, out)
    v, u = np.mgrid[0:out, 0:out] + 0.5
    centroid = np.array([[(u * patch).sum() / patch.sum(), (v * patch).sum() / patch.sum()]])
    back = roi.to_image(centroid, out)[0]
    assert np.linalg.norm(back - at) < tol, back


def test_roi_crop_flip_mirrors():
    image = np.zeros((100, 100, 3), np.uint8)
    image[40:60, 10:30] = 255  # a block on the left
    roi = Roi(50.0, 50.0, 100.0)
    plain = roi.crop(image, 50)
    flipped = roi.crop(image, 50, flip=True)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert plain[25, 10].max() == 255 and flipped[25, 39].max() == 255


def test_roi_from_keypoints():
    roi = roi_from_keypoints(
        np.array([10.0, 10.0]), np.array([20.0, 20.0]), (0.0, 0.0, 40.0, 20.0), 1.5
    )
    assert roi.angle == pytest.approx(np.pi / 4)
    assert (roi.cx, roi.cy, roi.size) == pytest.approx((20.0, 10.0, 60.0))
    # Eyes level but right-to-left: the angle wraps into (-pi, pi].
    flipped = roi_from_keypoints(
        np.array([20.0, 0.0]), np.array([10.0, 0.0]), (0.0, 0.0, 10.0, 10.0), 1.0
    )
    assert abs(abs(flipped.angle) - np.pi) < 1e-9
