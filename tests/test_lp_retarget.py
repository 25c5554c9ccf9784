"""LivePortrait's eye and lip retargeting networks in the renderer, on stand-in packs
(tests/neural_standins.py): the blink channels drive ``stitching_eye`` and the jaw drives
``stitching_lip`` with LP's input rows ``[x_s, source ratios, target]``, their deltas join
the driving keypoints before stitching, the table rows of those channels are then left
out, and without the networks the table path is as before."""

from __future__ import annotations

from pathlib import Path

import neural_standins as standins
import numpy as np
import onnxruntime as ort
import pytest
from conftest import SAMPLE_IMAGE

from core.face.portrait import load_image
from core.render.liveportrait import LivePortraitRenderer
from core.render.liveportrait.expression import expression_offsets, lp_channel
from core.render.liveportrait.keypoints import driving_motion
from core.render.liveportrait.retarget import (
    EYE_POINTS,
    LIP_GAIN,
    LIP_MAX,
    LIP_POINTS,
    WIDE_GAIN,
    eye_ratios,
    eye_target,
    lip_ratio,
    lip_target,
)
from core.runtime.factory import open_stages
from core.runtime.pack_init import init_pack
from core.runtime.sessions import Runtime, RuntimeConfig


def runtime() -> Runtime:
    return Runtime(RuntimeConfig("cpu", 1))


@pytest.fixture(scope="module")
def packs(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lpr")
    out = {
        "flp": standins.liveportrait_folder(root / "flp"),
        "ff16": standins.liveportrait_folder(root / "ff16", "ff", fp16=True),
        "bare": standins.liveportrait_folder(root / "bare", optional=False),
    }
    for folder in out.values():
        init_pack(folder)
    return out


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_image(SAMPLE_IMAGE)


@pytest.fixture(scope="module")
def face(packs, photo):
    return open_stages(packs["bare"], runtime=runtime()).face.analyze(photo, "astronaut.png")


def make_renderer(pack: Path, photo, face) -> LivePortraitRenderer:
    renderer = open_stages(pack, runtime=runtime()).renderer(photo, face)
    assert isinstance(renderer, LivePortraitRenderer)
    return renderer


@pytest.fixture(scope="module")
def renderers(packs, photo, face) -> dict[str, LivePortraitRenderer]:
    return {name: make_renderer(pack, photo, face) for name, pack in packs.items()}


class Spy:
    """Records each feed a model gets and passes it on."""

    def __init__(self, model) -> None:
        self.model = model
        self.feeds: list[dict[str, np.ndarray]] = []

    def __call__(self, feeds):
        self.feeds.append({k: np.array(v) for k, v in feeds.items()})
        return self.model(feeds)


def raw_delta(path: Path, row: np.ndarray) -> np.ndarray:
    """The file's output for one input row, straight from ONNX Runtime ([21, 3])."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = session.run(None, {"input": row.astype(np.float32)})[0]
    return np.asarray(out, np.float64).reshape(21, 3)


def test_the_ratios_are_lps_gap_over_width_on_the_mesh_points(face):
    lm = np.zeros((468, 3))
    (top_r, bottom_r, a_r, b_r), (top_l, bottom_l, a_l, b_l) = EYE_POINTS
    lm[a_r], lm[b_r], lm[top_r], lm[bottom_r] = (0, 0, 5), (30, 0, 9), (15, -4, 0), (15, 5, 0)
    lm[a_l], lm[b_l], lm[top_l], lm[bottom_l] = (60, 0, 0), (100, 0, 0), (80, -3, 0), (80, 3, 0)
    # 2-D distances (z ignored), the subject's right eye (LP's "left") first.
    np.testing.assert_allclose(eye_ratios(lm), [9 / 30, 6 / 40], rtol=1e-6)
    top, bottom, a, b = LIP_POINTS
    lm[a], lm[b], lm[top], lm[bottom] = (40, 100, 0), (90, 100, 0), (65, 99, 0), (65, 109, 0)
    assert lip_ratio(lm) == pytest.approx(10 / 50, rel=1e-6)
    # On the photo: open eyes and parted lips read within LP's slider ranges (0..0.8).
    face_lm = face.landmarks
    assert np.all((eye_ratios(face_lm) > 0.15) & (eye_ratios(face_lm) < 0.6))
    assert 0.0 <= lip_ratio(face_lm) < 0.3  # her lips are parted (a smile)


def test_the_targets_from_the_channels():
    eyes = np.array([0.3, 0.4])
    assert eye_target(eyes, {}) == pytest.approx(0.35)
    assert eye_target(eyes, {"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0}) == 0.0  # closed
    assert eye_target(eyes, {"eyeBlinkLeft": 1.0}) == pytest.approx(0.175)  # the mean
    assert eye_target(eyes, {"eyeWideLeft": 1, "eyeWideRight": 1}) == pytest.approx(0.42)
    # The lip gap is jawOpen - mouthClose (ARKit: the lips meet when they are equal).
    assert lip_target(0.05, {}) == 0.05
    assert lip_target(0.05, {"jawOpen": 0.23}) == pytest.approx(0.05 + LIP_GAIN * 0.23)
    assert lip_target(0.05, {"jawOpen": 0.3, "mouthClose": 0.3}) == 0.05
    assert lip_target(0.05, {"jawOpen": 0.1, "mouthClose": 0.3}) == 0.0  # shut, not below
    assert lip_target(0.16, {"jawOpen": 1.0}) == LIP_MAX  # at most FaceFusion's "open"


@pytest.mark.parametrize("name", ["flp", "ff16"])
def test_a_blink_drives_the_eye_network_and_moves_the_keypoints_by_its_output(
    renderers, packs, face, name
):
    r = renderers[name]
    assert r.retargeting is not None
    assert r.retargeting.used == ("stitching_eye", "stitching_lip")
    spy = Spy(r.retargeting.eye_model)
    r.retargeting.eye_model = spy
    try:
        blink = {"eyeBlinkLeft": 0.8, "eyeBlinkRight": 0.8}
        delta = r.retarget_delta(blink)
    finally:
        r.retargeting.eye_model = spy.model
    source = eye_ratios(face.landmarks)
    target = float(source.mean()) * (1 - 0.8)
    (row,) = spy.feeds[-1].values()
    assert row.shape == (1, 66)
    np.testing.assert_allclose(row[0, :63], r.x_s.reshape(-1), atol=1e-12)  # x_s first
    np.testing.assert_allclose(row[0, 63:65], source, atol=1e-12)  # then LP's two eyes
    assert row[0, 65] == pytest.approx(target)  # then the one target
    # The delta is the network's output at the target less its output at the photo's ratio.
    file = packs[name] / standins.FLP_FILES["stitching_eye"] if name == "flp" else None
    if file is not None:
        neutral = r.retargeting.eye_input(float(source.mean()))
        want = raw_delta(file, row) - raw_delta(file, neutral)
        np.testing.assert_allclose(delta, want, atol=1e-6)
    assert np.abs(delta).max() > 1e-3
    # ... added to the driving keypoints before stitching; the table's blink rows are not.
    np.testing.assert_allclose(r.driving(blink).keypoints(), r.x_s, atol=1e-12)
    want_kp = r.networks.stitch(r.x_s, r.x_s + delta)
    np.testing.assert_allclose(r.driving_keypoints(blink), want_kp, atol=1e-9)
    assert np.abs(r.driving_keypoints(blink) - r.driving_keypoints({})).max() > 1e-3
    # More closure, lower target; eyeWide opens past the photo's own ratio.
    wide = {"eyeWideLeft": 1.0, "eyeWideRight": 1.0}
    assert r.retargeting.eye_input(target)[0, 65] < source.mean()
    spy = Spy(r.retargeting.eye_model)
    r.retargeting.eye_model = spy
    try:
        r.retarget_delta(wide)
    finally:
        r.retargeting.eye_model = spy.model
    (row,) = spy.feeds[-1].values()
    assert row[0, 65] == pytest.approx(float(source.mean()) * (1 + WIDE_GAIN))


@pytest.mark.parametrize("name", ["flp", "ff16"])
def test_the_jaw_drives_the_lip_network(renderers, packs, face, name):
    r = renderers[name]
    spy = Spy(r.retargeting.lip_model)
    r.retargeting.lip_model = spy
    try:
        jaw = {"jawOpen": 0.38}
        delta = r.retarget_delta(jaw)
        (row,) = spy.feeds[-1].values()
        # Lips shut over the open jaw (ARKit: mouthClose = jawOpen): the photo's own ratio,
        # no delta, no call.
        calls = len(spy.feeds)
        shut = r.retarget_delta({"jawOpen": 0.38, "mouthClose": 0.38})
        assert len(spy.feeds) == calls and not shut.any()
    finally:
        r.retargeting.lip_model = spy.model
    source = lip_ratio(face.landmarks)
    assert row.shape == (1, 65)
    np.testing.assert_allclose(row[0, :63], r.x_s.reshape(-1), atol=1e-12)
    assert row[0, 63] == pytest.approx(source)
    assert row[0, 64] == pytest.approx(source + LIP_GAIN * 0.38)
    if name == "flp":
        file = packs[name] / standins.FLP_FILES["stitching_lip"]
        want = raw_delta(file, row) - raw_delta(file, r.retargeting.lip_input(source))
        np.testing.assert_allclose(delta, want, atol=1e-6)
    assert np.abs(delta).max() > 1e-3
    # jawOpen's table rows are not applied as well: only the network moves the keypoints.
    np.testing.assert_allclose(r.driving(jaw).exp, r.source.exp, atol=1e-12)
    want_kp = r.networks.stitch(r.x_s, r.x_s + delta)
    np.testing.assert_allclose(r.driving_keypoints(jaw), want_kp, atol=1e-9)
    a, b = r.render_crop({}), r.render_crop(jaw)
    assert np.abs(a - b).max() > 1e-3


def test_with_the_networks_the_table_keeps_the_other_channels_and_a_winks_difference(
    renderers, face
):
    r = renderers["flp"]
    channels = {
        "jawOpen": 0.5,
        "mouthClose": 0.1,
        "eyeBlinkLeft": 1.0,
        "eyeBlinkRight": 0.0,
        "mouthSmileLeft": 0.4,
        "head_yaw": 6.0,
    }
    # Table: no jaw or mouthClose rows, each eye's difference from the mean blink (a wink),
    # the smile as before.
    table = {"eyeBlinkLeft": 0.5, "eyeBlinkRight": -0.5, "mouthSmileLeft": 0.4}
    np.testing.assert_allclose(
        r.driving(channels).exp - r.source.exp, expression_offsets(table), atol=1e-12
    )
    want = driving_motion(
        r.source, channels, expression_offsets(table), r.crop.face_width, 512
    ).keypoints()
    np.testing.assert_allclose(r.driving(channels).keypoints(), want, atol=1e-12)
    # The eye network gets the mean blink (0.5); the lip network jaw - mouthClose.
    eye, lip = Spy(r.retargeting.eye_model), Spy(r.retargeting.lip_model)
    r.retargeting.eye_model, r.retargeting.lip_model = eye, lip
    try:
        r.retarget_delta(channels)
    finally:
        r.retargeting.eye_model, r.retargeting.lip_model = eye.model, lip.model
    assert eye.feeds[-1]["input"][0, 65] == pytest.approx(eye_ratios(face.landmarks).mean() / 2)
    assert lip.feeds[-1]["input"][0, 64] == pytest.approx(
        lip_ratio(face.landmarks) + LIP_GAIN * 0.4
    )
    # Neutral channels: no delta (x_d = x_s before stitching, as without the networks).
    assert not r.retarget_delta({}).any()
    assert not r.retarget_delta({"eyeBlinkLeft": 0.0, "jawOpen": 0.0}).any()


def test_without_the_networks_the_table_path_is_unchanged(renderers):
    r = renderers["bare"]
    assert r.retargeting is None
    channels = {"jawOpen": 0.4, "eyeBlinkLeft": 1.0, "eyeBlinkRight": 0.6, "mouthClose": 0.1}
    offsets = expression_offsets(channels)
    assert offsets[19, 1] > 0 and offsets[15, 1] > 0
    motion = driving_motion(r.source, channels, offsets, r.crop.face_width, 512)
    np.testing.assert_allclose(r.driving(channels).keypoints(), motion.keypoints(), atol=1e-12)
    stitched = r.networks.stitch(r.x_s, motion.keypoints())
    np.testing.assert_allclose(r.driving_keypoints(channels), stitched, atol=1e-12)
    frame = r.networks.warp(r.feature, r.x_s, stitched)
    np.testing.assert_array_equal(r.render_crop(channels), frame)


def test_lp_channels_bypass_the_retargeting_networks(renderers):
    """A Ditto take's lp_exp_* frame: its offsets are the expression, no network runs."""
    r = renderers["flp"]
    eye, lip = Spy(r.retargeting.eye_model), Spy(r.retargeting.lip_model)
    r.retargeting.eye_model, r.retargeting.lip_model = eye, lip
    try:
        channels = {lp_channel(19, 1): 0.02, "jawOpen": 0.7, "eyeBlinkLeft": 1.0}
        assert not r.retarget_delta(channels).any()
        kp = r.driving_keypoints(channels)
    finally:
        r.retargeting.eye_model, r.retargeting.lip_model = eye.model, lip.model
    assert not eye.feeds and not lip.feeds
    exp = r.source.exp.copy()
    exp[19, 1] += 0.02
    np.testing.assert_allclose(r.driving(channels).exp, exp, atol=1e-12)
    assert kp.shape == (21, 3)
