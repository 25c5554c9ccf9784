"""Ditto packs on stand-ins (tests/neural_standins.py): the voice's HuBERT features framed as
Ditto's wav2feat, the LMDM's DDIM sampler and its cross-faded windows, the motion as editable
head channels plus lp_exp_* channels, the LivePortrait renderer on Ditto's networks reading
those channels, and ``generate --pack`` end to end on the CPU. Nothing here needs weights,
a download or a GPU."""

from __future__ import annotations

import json
from pathlib import Path

import neural_standins as standins
import numpy as np
import pytest
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args, speech_clip

from core.audio import compute_features, load_audio
from core.cli import main
from core.errors import ModelPackError, VasaError
from core.face.portrait import load_image
from core.motion.ditto import DittoMotion, hubert, windows
from core.motion.ditto.conditions import COND_WIDTH, EMOTION_CLASSES, emotion_vector
from core.motion.ditto.driving import DRIVEN, LIPS, LP_CHANNELS
from core.motion.ditto.sampler import DdimSampler, alphas_cumprod, time_pairs
from core.motion.ditto.source import PARTS
from core.motion.settings import MotionSettings
from core.motion.track import HEAD_CHANNELS, MotionTrack
from core.render.liveportrait import LivePortraitRenderer
from core.render.liveportrait.expression import expression_offsets, lp_channel
from core.render.liveportrait.keypoints import YAW_SIGN, headpose_degrees
from core.render.liveportrait.networks import DittoNetworks
from core.runtime.factory import Stages, open_stages
from core.runtime.pack_init import init_pack
from core.runtime.sessions import Runtime, RuntimeConfig
from core.take.frames import frame_name
from core.take.record import TakeFolder
from core.take.rerender import rerender


def one_sentence(message: str) -> bool:
    return message.count(". ") == 0 and message.endswith(".") and "Traceback" not in message


@pytest.fixture(scope="module")
def pack(tmp_path_factory) -> Path:
    folder = standins.ditto_folder(tmp_path_factory.mktemp("ditto") / "ditto_onnx", fp16=True)
    init_pack(folder)
    return folder


@pytest.fixture(scope="module")
def stages(pack) -> Stages:
    return open_stages(pack, runtime=Runtime(RuntimeConfig("cpu", 1)))


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_image(SAMPLE_IMAGE)


@pytest.fixture(scope="module")
def face(stages, photo):
    return stages.face.analyze(photo, "astronaut.png")


@pytest.fixture(scope="module")
def motion(stages, photo, face) -> DittoMotion:
    assert isinstance(stages.motion, DittoMotion)
    stages.motion.bind_portrait(photo, face)
    return stages.motion


@pytest.fixture(scope="module")
def voice() -> np.ndarray:
    return load_audio(SAMPLE_AUDIO)  # 8.4 s: four 80-frame windows at 25 fps


@pytest.fixture(scope="module")
def features(voice):
    return compute_features(voice, hubert.FPS)


def quiet(seed: int = 0, **kw) -> MotionSettings:
    """Settings without our blinks, so the eye channels are the model's path only."""
    return MotionSettings(seed=seed, blink_rate_per_min=0.0, **kw)


@pytest.fixture(scope="module")
def track(motion, features, voice) -> MotionTrack:
    return motion.generate(features, MotionSettings(seed=7), voice)


# -- HuBERT framing ---------------------------------------------------------------------------


def test_hubert_windows_follow_dittos_wav2feat_framing():
    voice = np.arange(16000, dtype=np.float32) + 1.0  # 1 s, no zeros of its own
    assert hubert.n_frames(16000) == 25 and hubert.n_frames(16001) == 26
    wins = hubert.windows(voice)
    assert len(wins) == 5 and all(w.shape == (1, 6480) and w.dtype == np.float32 for w in wins)
    # 2000 zeros in front (3 frames before and 2 after the 5 a window describes, plus 80),
    # then the voice; each window starts 5 frames (3200 samples) after the last.
    assert not wins[0][0, :2000].any() and wins[0][0, 2000] == 1.0
    assert wins[1][0, 0] == 3200 - 2000 + 1.0
    rows = np.arange(20 * 1024, dtype=np.float32).reshape(20, 1024)
    kept = hubert.frame_rows(rows)
    np.testing.assert_array_equal(kept, (rows[6:16:2] + rows[7:16:2]) / 2)  # rows [-14:-4]


def test_hubert_features_follow_the_voice(motion, voice):
    feats = hubert.hubert_features(voice[:32000], motion.encode)
    assert feats.shape == (50, 1024) and feats.dtype == np.float32
    silent = hubert.hubert_features(np.zeros(32000, np.float32), motion.encode)
    assert np.abs(feats - silent).max() > 0.05
    assert np.abs(np.diff(feats, axis=0)).max() > 1e-3  # not one row repeated


# -- the sampler and its windows ---------------------------------------------------------------


def test_ddim_schedule_is_dittos():
    pairs = time_pairs(50)
    assert pairs[0] == (999, 979) and pairs[-1] == (19, -1) and len(pairs) == 50
    ac = alphas_cumprod()
    assert ac.shape == (1000,) and np.all(np.diff(ac) < 0) and 0.999 < ac[0] < 1 and ac[-1] < 1e-6


def test_the_last_step_returns_the_networks_clean_motion():
    target = np.linspace(-1, 1, 80 * 5, dtype=np.float32).reshape(1, 80, 5)

    def denoise(x, frame, cond, t):
        assert t.dtype == np.int64 and t.shape == (1,)
        return np.zeros_like(x), target + frame[:, None, :] + cond[..., :1]

    sampler = DdimSampler(80, 5, np.random.default_rng(0), steps=10)
    frame, cond = np.full((1, 5), 0.5, np.float32), np.zeros((1, 80, 3), np.float32)
    np.testing.assert_allclose(sampler.sample(denoise, frame, cond), target[0] + 0.5, atol=1e-6)


def test_a_cross_fade_spreads_a_windows_jump_over_the_overlap():
    done = np.zeros((windows.SEQ_FRAMES, 4), np.float32)
    window = np.ones((windows.SEQ_FRAMES, 4), np.float32)
    joined = windows.join(done, window)
    assert len(joined) == windows.SEQ_FRAMES + windows.STRIDE
    steps = np.abs(np.diff(joined, axis=0))
    assert steps.max() <= 1.0 / windows.OVERLAP + 1e-6  # a jump of 1 in steps of 1/10
    np.testing.assert_array_equal(joined[: windows.STRIDE], 0.0)
    np.testing.assert_array_equal(joined[windows.SEQ_FRAMES + 1 :], 1.0)  # past the smoothing


def seam_ratio(track: MotionTrack) -> float:
    """The largest (over channels) ratio of the biggest frame-to-frame step where windows
    join (the frame before a window's start to the end of its overlap) to the biggest step
    anywhere else."""
    worst = 0.0
    for name in track.channels:
        steps = np.abs(np.diff(track[name].astype(np.float64)))
        seam = np.zeros(len(steps), bool)
        for start in windows.window_starts(track.n_frames)[1:]:
            seam[start - 1 : start + windows.OVERLAP] = True
        inside = steps[~seam].max()
        if inside > 1e-9:
            worst = max(worst, steps[seam].max() / inside)
    return worst


def test_windows_join_without_a_jump(motion, features, voice, monkeypatch):
    for seed in (0, 1):
        tracked = motion.generate(features, quiet(seed), voice)
        assert len(windows.window_starts(tracked.n_frames)) == 4
        # No larger than inside the windows (a quarter's allowance: 11 seam steps per join
        # against some 60 inside, of the same noisy motion).
        assert seam_ratio(tracked) < 1.25
    # The check sees a hard cut: each new window simply replacing the overlap.
    monkeypatch.setattr(
        windows, "join", lambda done, w: np.concatenate([done[: -windows.OVERLAP], w])
    )
    assert seam_ratio(motion.generate(features, quiet(0), voice)) > 1.5


def test_same_seed_same_motion_another_seed_another(motion, features, voice, track):
    again = motion.generate(features, MotionSettings(seed=7), voice)
    assert again.channels == track.channels
    np.testing.assert_array_equal(again.data, track.data)
    other = motion.generate(features, MotionSettings(seed=8), voice)
    assert np.abs(other.data - track.data).max() > 1e-3


# -- the track ---------------------------------------------------------------------------------


def test_the_track_has_head_channels_in_degrees_and_lp_channels(track, features):
    assert track.n_frames == features.n_frames and track.fps == features.fps
    assert set(HEAD_CHANNELS) <= set(track.channels)
    assert set(LP_CHANNELS) <= set(track.channels)
    assert LP_CHANNELS == tuple(lp_channel(i, a) for i in DRIVEN for a in range(3))
    assert track.meta["generator"] == "ditto" and track.meta["ditto"]["windows"] == 4
    for name in ("head_yaw", "head_pitch", "head_roll"):
        assert abs(track[name][0]) < 1e-6  # Ditto drives relative to its first frame: the photo
        assert np.abs(track[name]).max() < 30.0 and np.ptp(track[name]) > 0.2
        assert np.abs(np.diff(track[name])).max() < 3.0  # degrees per frame at 25 fps
    assert np.abs(track["head_x"]).max() < 0.5 and np.abs(track["head_y"]).max() < 0.5
    np.testing.assert_array_equal(track["head_scale"], 1.0)
    lips = [lp_channel(i, a) for i in LIPS for a in range(3)]
    assert max(np.ptp(track[c]) for c in lips) > 1e-3  # the lips move with the voice


def test_our_controls_shape_dittos_motion(motion, features, voice):
    base = motion.generate(features, quiet(3), voice)
    still = motion.generate(features, quiet(3, motion_intensity=0.0, lipsync_strength=0.0), voice)
    for name in ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y"):
        np.testing.assert_array_equal(still[name], 0.0)
    for i in LIPS:
        np.testing.assert_array_equal(still[lp_channel(i, 1)], 0.0)
    half = motion.generate(features, quiet(3, motion_intensity=0.5), voice)
    np.testing.assert_allclose(half["head_x"], 0.5 * base["head_x"], atol=1e-6)
    closer = motion.generate(features, quiet(3, head_scale=1.2), voice)
    np.testing.assert_array_equal(closer["head_scale"], np.float32(1.2))
    # Gaze from the settings through the expression table's rows (constant offsets).
    looking = motion.generate(features, quiet(3, gaze_yaw=10.0), voice)
    want = expression_offsets({"gaze_yaw": 10.0})[11, 0]
    np.testing.assert_allclose(looking["lp_exp_11_x"] - base["lp_exp_11_x"], want, atol=1e-6)
    # Blinks: our planner closes the lids through the table's eyelid rows.
    blinking = motion.generate(features, MotionSettings(seed=3, blink_rate_per_min=40.0), voice)
    lid = blinking["lp_exp_11_y"] - base["lp_exp_11_y"]
    assert (
        blinking.meta["blinks"] > 0
        and lid.max() > 0.5 * expression_offsets({"eyeBlinkRight": 1.0})[11, 1]
    )
    # Emotion is a condition of the model: another emotion, other motion.
    happy = motion.generate(features, quiet(3, emotion="happy"), voice)
    assert np.abs(happy.data - base.data).max() > 1e-4


def test_emotion_vectors_are_dittos_softmax_of_one_class():
    neutral = emotion_vector("neutral", 1.0)
    assert neutral.argmax() == EMOTION_CLASSES.index("Neutral") and neutral.sum() == pytest.approx(
        1
    )
    assert neutral.max() == pytest.approx(np.exp(8) / (np.exp(8) + 7), rel=1e-6)
    sad = emotion_vector("sad", 1.0)
    assert sad.argmax() == EMOTION_CLASSES.index("Sad")
    np.testing.assert_allclose(emotion_vector("sad", 0.0), neutral)
    np.testing.assert_allclose(emotion_vector("sad", 0.5), (neutral + sad) / 2, atol=1e-7)
    assert COND_WIDTH == 1103


def test_the_photos_eyes_are_measured_in_the_crop(motion):
    source = motion.source
    assert source is not None
    assert np.all((source.eye_open > 0.3) & (source.eye_open < 2.0))  # both eyes open
    assert np.abs(source.eye_ball).max() < 0.05  # irises near the eye centres, crop units
    assert source.row.shape == (265,) and source.canonical.shape == (63,)


# -- the renderer reads the lp_ channels ---------------------------------------------------------


@pytest.fixture(scope="module")
def renderer(stages, photo, face) -> LivePortraitRenderer:
    made = stages.renderer(photo, face)
    assert isinstance(made, LivePortraitRenderer) and isinstance(made.networks, DittoNetworks)
    return made


def test_the_renderer_rebuilds_dittos_driving_motion(renderer, motion, features, voice, track):
    rows = motion.motion_rows(voice, MotionSettings(seed=7)).astype(np.float64)
    source = motion.source
    assert source is not None
    src, d0 = source.row.astype(np.float64), rows[0]
    s = renderer.source
    for i in (0, 30, 100, 200):
        got = renderer.driving(track.frame(i))
        for part in ("pitch", "yaw", "roll"):
            sl = PARTS[part]
            want = float(headpose_degrees(src[sl] + rows[i, sl] - d0[sl])[0])
            assert getattr(got, part) == pytest.approx(want, abs=1e-3)
        t = PARTS["t"]
        np.testing.assert_allclose(got.t[:2], s.t[:2] + rows[i, t][:2] - d0[t][:2], atol=1e-5)
        e = PARTS["exp"]
        want_exp = (rows[i, e] - d0[e]).reshape(21, 3)
        np.testing.assert_allclose(got.exp[19] - s.exp[19], want_exp[19], atol=1e-5)
        others = [k for k in range(21) if k not in DRIVEN]
        np.testing.assert_array_equal(got.exp[others], s.exp[others])  # the photo's own
        assert got.scale == s.scale
    assert YAW_SIGN * track["head_yaw"][100] == pytest.approx(
        renderer.driving(track.frame(100)).yaw - s.yaw, abs=1e-3
    )


def test_an_lp_curve_changes_the_rendered_frame_and_arkit_channels_then_do_not(renderer, track):
    frame = track.frame(50)
    base = renderer.render_crop(frame)
    edited = dict(frame) | {"lp_exp_19_y": frame["lp_exp_19_y"] + 0.5}
    moved = renderer.driving(edited).exp - renderer.driving(frame).exp
    assert moved[19, 1] == pytest.approx(0.5) and np.count_nonzero(moved) == 1
    assert np.abs(renderer.render_crop(edited) - base).max() > 1e-3
    # With lp_ channels the expression is theirs: the ARKit table is not added on top.
    np.testing.assert_array_equal(renderer.render_crop(dict(frame) | {"jawOpen": 1.0}), base)
    # Without them, the table drives the same renderer.
    plain = {"jawOpen": 1.0}
    assert np.abs(renderer.render_crop(plain) - renderer.render_crop({})).max() > 1e-4


# -- end to end and bad inputs --------------------------------------------------------------------


def test_generate_with_a_ditto_pack_end_to_end_then_rerender(pack, photo, tmp_path):
    clip = speech_clip(tmp_path / "clip.wav", 1.2)
    take = tmp_path / "take"
    args = generate_args(SAMPLE_IMAGE, clip, take, "--pack", pack, "--fps", 10, "--seed", 4)
    assert main([*args, "--provider", "cpu", "--quiet", "--no-credentials"]) == 0
    run = json.loads((take / "run.json").read_text())
    assert run["status"] == "complete" and run["pack"]["profile"] == "ditto"
    assert run["motion"]["generator"] == "ditto" and run["frames_written"] == 12
    for file in ("hubert", "lmdm_v0.4_hubert", "warp_network_ori", "decoder", "stitch_network"):
        assert run["providers"][f"{pack.name}/{file}.onnx"]["provider"] == "CPU"
    _, track = TakeFolder(take).read()
    assert set(LP_CHANNELS) <= set(track.channels) and track.fps == 10
    frames = [load_image(take / "frames" / frame_name(i + 1)) for i in range(track.n_frames)]
    assert all(f.shape == photo.shape for f in frames)
    assert len({f.tobytes() for f in frames}) > 1  # the face moves
    edited = MotionTrack(track.fps, track.channels, track.data.copy(), dict(track.meta))
    edited.data[5:7, edited.index("lp_exp_19_y")] += 0.5
    result = rerender(take, edited)
    assert result.status == "complete" and result.changed[:2] == [5, 6]
    after = load_image(take / "frames" / frame_name(6))
    assert not np.array_equal(after, frames[5])


def test_bad_inputs_give_one_sentence(pack, features, voice):
    unbound = open_stages(pack, runtime=Runtime(RuntimeConfig("cpu", 1))).motion
    with pytest.raises(ModelPackError, match="needs the portrait") as info:
        unbound.generate(features, MotionSettings(), voice)
    assert one_sentence(str(info.value))
    with pytest.raises(VasaError, match="give the take its audio") as info:
        unbound.generate(features, MotionSettings(), None)
    assert one_sentence(str(info.value))
    with pytest.raises(VasaError, match="Emotion") as info:
        unbound.generate(features, MotionSettings(emotion="bored"), voice)
    assert one_sentence(str(info.value))
    with pytest.raises(ModelPackError, match="hubert.onnx gave features of shape") as info:
        hubert.frame_rows(np.zeros((20, 768), np.float32))
    assert one_sentence(str(info.value))
