"""The LivePortrait renderer on stand-in packs (tests/neural_standins.py): our head channels
reach the driving keypoints through LivePortrait's rotation, the expression table moves
them, the paste-back never touches a pixel outside the crop, and ``generate --pack`` makes a
take with it end to end (then Re-render) on the CPU."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import neural_standins as standins
import numpy as np
import pytest
from conftest import SAMPLE_IMAGE, generate_args, speech_clip
from scipy.spatial.transform import Rotation
from scipy.special import softmax

from core.cli import main
from core.face.portrait import load_image
from core.motion.track import MotionTrack
from core.render.liveportrait import LivePortraitRenderer
from core.render.liveportrait.crop import CROP_SIZE, LpCrop
from core.render.liveportrait.expression import TABLE, expression_offsets
from core.render.liveportrait.keypoints import headpose_degrees
from core.render.liveportrait.paste import PasteBack
from core.runtime.factory import open_stages
from core.runtime.pack_init import init_pack
from core.runtime.sessions import Runtime, RuntimeConfig
from core.take.frames import frame_name
from core.take.record import TakeFolder
from core.take.rerender import rerender


def runtime() -> Runtime:
    return Runtime(RuntimeConfig("cpu", 1))


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lp")
    out = {
        "flp": standins.liveportrait_folder(root / "flp"),
        "ff16": standins.liveportrait_folder(root / "ff16", "ff", fp16=True),
        # No retargeting networks: the expression table drives blinks and the jaw too.
        "bare": standins.liveportrait_folder(root / "bare", optional=False),
        "ff16_bare": standins.liveportrait_folder(
            root / "ff16_bare", "ff", fp16=True, optional=False
        ),
    }
    for folder in out.values():
        init_pack(folder)
    return out


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_image(SAMPLE_IMAGE)


@pytest.fixture(scope="module")
def face(packs, photo):
    return open_stages(packs["flp"], runtime=runtime()).face.analyze(photo, "astronaut.png")


def make_renderer(pack: Path, photo: np.ndarray, face) -> LivePortraitRenderer:
    renderer = open_stages(pack, runtime=runtime()).renderer(photo, face)
    assert isinstance(renderer, LivePortraitRenderer)
    return renderer


@pytest.fixture(scope="module", params=["flp", "ff16"])
def renderer(request, packs, photo, face) -> LivePortraitRenderer:
    return make_renderer(packs[request.param], photo, face)


def lp_keypoints(kp, exp, scale, t, pitch, yaw, roll) -> np.ndarray:
    """LP's Eqn. 2 with R from SciPy (extrinsic xyz = Rz Ry Rx, used transposed as FF does)."""
    r = Rotation.from_euler("xyz", [pitch, yaw, roll], degrees=True).as_matrix()
    x = scale * (kp @ r.T + exp)
    x[:, :2] += t[:2]
    return x


def test_headpose_bins_are_the_softmax_expectation():
    bins = np.random.default_rng(3).standard_normal((1, 66)) * 3
    expected = float((softmax(bins[0]) * np.arange(66)).sum() * 3 - 97.5)
    assert headpose_degrees(bins)[0] == pytest.approx(expected, abs=1e-9)


def test_a_head_yaw_curve_turns_the_driving_keypoints_by_lps_rotation(renderer):
    s = renderer.source
    curve = np.linspace(-25.0, 25.0, 7)
    for yaw in curve:
        got = renderer.driving({"head_yaw": float(yaw), "head_roll": 4.0}).keypoints()
        # Our yaw > 0 (to the viewer's right) is LP yaw < 0; roll keeps its sign.
        want = lp_keypoints(s.kp, s.exp, s.scale, s.t, s.pitch, s.yaw - yaw, s.roll + 4.0)
        np.testing.assert_allclose(got, want, atol=1e-9)
    # A turn is a rotation of the canonical keypoints (exp added after it): undoing scale,
    # translation and exp leaves points at the same distances from the origin as kp.
    still = renderer.driving({}).keypoints()
    np.testing.assert_allclose(still, renderer.x_s, atol=1e-12)
    turned = renderer.driving({"head_yaw": 20.0}).keypoints()
    assert np.abs(turned - still).max() > 1e-3
    shift = np.array([s.t[0], s.t[1], 0.0])
    rotated = (turned - shift) / s.scale - s.exp
    np.testing.assert_allclose(np.linalg.norm(rotated, axis=1), np.linalg.norm(s.kp, axis=1))


def test_scale_and_translation_reach_the_keypoints(renderer):
    still = renderer.driving({}).keypoints()
    moved = renderer.driving({"head_x": 0.1, "head_y": -0.05}).keypoints()
    per_fw = 2 * renderer.crop.face_width / CROP_SIZE
    want = np.broadcast_to([0.1 * per_fw, -0.05 * per_fw], (21, 2))
    np.testing.assert_allclose(moved[:, :2] - still[:, :2], want, atol=1e-12)
    np.testing.assert_allclose(moved[:, 2], still[:, 2])
    s = renderer.source
    bigger = renderer.driving({"head_scale": 1.2}).keypoints()
    np.testing.assert_allclose(bigger[:, :2] - s.t[:2], 1.2 * (still[:, :2] - s.t[:2]), atol=1e-12)


@pytest.mark.parametrize("name", ["bare", "ff16_bare"])
def test_the_jaw_channel_moves_kp_19_by_its_table_row_and_changes_the_frame(
    name, packs, photo, face
):
    """Without retargeting networks in the pack (with them: tests/test_lp_retarget.py)."""
    renderer = make_renderer(packs[name], photo, face)
    assert renderer.retargeting is None
    rows = {(i, a): v for i, a, v in TABLE["jawOpen"].positive}
    offsets = expression_offsets({"jawOpen": 0.5})
    assert offsets[19, 1] == pytest.approx(0.5 * rows[(19, 1)]) and offsets[19, 1] > 0
    assert np.count_nonzero(offsets) == len(rows)
    closed = renderer.driving({"jawOpen": 0.0})
    opened = renderer.driving({"jawOpen": 0.5})
    np.testing.assert_allclose(opened.exp - closed.exp, offsets, atol=1e-12)
    a = renderer.render_crop({"jawOpen": 0.0})
    b = renderer.render_crop({"jawOpen": 0.5})
    assert a.shape == (CROP_SIZE, CROP_SIZE, 3) and np.abs(a - b).max() > 1e-3
    # mouthClose shuts the lips over an open jaw: the lip gap is jawOpen - mouthClose.
    shut = expression_offsets({"jawOpen": 0.5, "mouthClose": 0.5})
    np.testing.assert_allclose(shut, 0.0, atol=1e-12)
    # Negative rows where the source differs by side (LP's gaze).
    left, right = expression_offsets({"gaze_yaw": -10}), expression_offsets({"gaze_yaw": 10})
    assert left[11, 0] == pytest.approx(-0.01) and right[11, 0] == pytest.approx(0.007)


def test_render_is_deterministic(packs, photo, face):
    channels = {"head_yaw": 8.0, "jawOpen": 0.6, "eyeBlinkLeft": 1.0, "gaze_yaw": -5.0}
    first = make_renderer(packs["flp"], photo, face).render(channels)
    second = make_renderer(packs["flp"], photo, face)
    np.testing.assert_array_equal(first, second.render(channels))
    np.testing.assert_array_equal(first, second.render(channels))


def test_paste_back_leaves_every_pixel_outside_the_crop_untouched(renderer, photo):
    frame = renderer.render({"head_yaw": 15.0, "jawOpen": 1.0, "head_x": 0.1})
    x0, y0, x1, y1 = renderer.changing_box
    outside = np.ones(photo.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert outside.any() and np.array_equal(frame[outside], photo[outside])
    assert (frame[y0:y1, x0:x1] != photo[y0:y1, x0:x1]).any()


def test_paste_back_of_a_turned_crop_keeps_the_photo_outside_the_square():
    """A roll-tilted crop: outside the turned square (even inside its bounding box) the
    frame is the photo exactly; well inside it, the generator's output."""
    rng = np.random.default_rng(7)
    photo = rng.integers(0, 256, (240, 320, 3), dtype=np.uint8)
    angle, s, centre = np.radians(20.0), CROP_SIZE / 150.0, np.array([170.0, 110.0])
    turn = np.array([[np.cos(angle), np.sin(angle)], [-np.sin(angle), np.cos(angle)]])
    to_crop = np.c_[s * turn, CROP_SIZE / 2 - s * turn @ centre]
    to_photo = np.linalg.inv(np.vstack([to_crop, [0, 0, 1]]))[:2]
    corners = (
        np.array([[0, 0], [512, 0], [512, 512], [0, 512]]) @ to_photo[:, :2].T + to_photo[:, 2]
    )
    lo, hi = np.floor(corners.min(0)).astype(int), np.ceil(corners.max(0)).astype(int) + 1
    box = (max(0, lo[0]), max(0, lo[1]), min(320, hi[0]), min(240, hi[1]))
    crop = LpCrop(to_crop, to_photo, box, 150.0, 100.0)
    out = np.full((CROP_SIZE, CROP_SIZE, 3), 0.25, np.float32)
    frame = PasteBack(photo, crop)(out)
    ys, xs = np.mgrid[0:240, 0:320]
    cx = to_crop[0, 0] * xs + to_crop[0, 1] * ys + to_crop[0, 2]
    cy = to_crop[1, 0] * xs + to_crop[1, 1] * ys + to_crop[1, 2]
    outside = (cx < -2) | (cx > CROP_SIZE + 1) | (cy < -2) | (cy > CROP_SIZE + 1)
    inside = (cx > 40) & (cx < CROP_SIZE - 40) & (cy > 40) & (cy < CROP_SIZE - 40)
    assert outside.sum() > 1000 and inside.sum() > 1000
    assert np.array_equal(frame[outside], photo[outside])
    assert np.abs(frame[inside].astype(int) - 64).max() <= 1


def test_generate_with_a_liveportrait_pack_then_rerender(packs, photo, tmp_path):
    clip = speech_clip(tmp_path / "clip.wav", 1.0)
    take = tmp_path / "take"
    pack = packs["flp"]
    args = generate_args(SAMPLE_IMAGE, clip, take, "--pack", pack, "--fps", 10)
    assert main([*args, "--provider", "cpu", "--quiet", "--no-credentials"]) == 0
    run = json.loads((take / "run.json").read_text())
    assert run["status"] == "complete" and run["pack"]["profile"] == "liveportrait"
    assert run["pack"]["name"] == pack.name and run["frames_written"] == 10
    for file in (
        "appearance_feature_extractor",
        "motion_extractor",
        "warping_spade",
        "stitching",
        "stitching_eye",  # the retargeting networks ran: their sessions are in the report
        "stitching_lip",
    ):
        assert run["providers"][f"{pack.name}/{file}.onnx"]["provider"] == "CPU"
    record, track = TakeFolder(take).read()
    frames = [load_image(take / "frames" / frame_name(i + 1)) for i in range(track.n_frames)]
    assert all(f.shape == photo.shape for f in frames)
    assert any(not np.array_equal(f, photo) for f in frames)
    # Re-render with the same factory: an edited jaw changes exactly those frames.
    edited = MotionTrack(track.fps, track.channels, track.data.copy(), dict(track.meta))
    edited.data[3:5, edited.index("jawOpen")] = 1.0
    result = rerender(take, edited)
    assert result.status == "complete" and result.changed[:2] == [3, 4]
    after = [load_image(take / "frames" / frame_name(i + 1)) for i in range(track.n_frames)]
    assert not np.array_equal(after[3], frames[3])
    assert np.array_equal(after[0], frames[0])


def test_a_pack_with_only_the_required_models_renders(tmp_path, photo, face, packs):
    folder = Path(shutil.copytree(packs["flp"], tmp_path / "bare"))
    for name in ("stitching_eye.onnx", "stitching_lip.onnx", "landmark.onnx", "pack.toml"):
        (folder / name).unlink()
    init_pack(folder)
    frame = make_renderer(folder, photo, face).render({"head_pitch": 5.0})
    assert frame.shape == photo.shape
