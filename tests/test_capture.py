"""Capture from video: a clip rendered by our own renderer from a known MotionTrack is read
back into that track; generate --motion renders a given track; the shared real clips have
a face in every frame; bad inputs are one sentence (exit status 2)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import SAD_IMAGE, run_cli, shared_path

from core.capture.capture import CaptureOptions, capture_video
from core.capture.channels import eye_closure
from core.capture.fill import describe_gaps, fill_missing, gaps
from core.capture.smooth import one_euro, one_euro_zero_lag
from core.capture.video import ffmpeg_exe, frame_spacing, probe_video
from core.cli import main as cli_main
from core.face.measure import FaceFeatures, read_face
from core.face.tracker import FaceTracker
from core.motion.track import MotionTrack
from core.runtime.factory import landmark_meter
from core.take.frames import read_frame
from core.take.record import TakeFolder

FPS = 20.0
N = 48


def known_track() -> MotionTrack:
    """Head angles, jaw and two blinks on independent curves (no two share a period)."""
    t = np.arange(N) / FPS
    track = MotionTrack.neutral(N, FPS)
    track["head_yaw"] = 12 * np.sin(2 * np.pi * t / 2.2)
    track["head_pitch"] = 8 * np.sin(2 * np.pi * t / 1.3 + 1.0)
    track["head_roll"] = 7 * np.sin(2 * np.pi * t / 1.7 + 2.0)
    # Up to 0.5, talking's range (real talkers' p90 is about 0.4): above it the landmark
    # model's reading of a rendered mouth levels off near 0.17 face widths, so wider
    # openings cannot be read back (nor the pitch beside them: see docs/capture.md).
    track["jawOpen"] = 0.25 * (1 - np.cos(2 * np.pi * t / 0.9))
    blink = np.zeros(N)
    for start in (10, 33):
        blink[start : start + 4] = (0.6, 1.0, 1.0, 0.6)
    track["eyeBlinkLeft"] = blink
    track["eyeBlinkRight"] = blink
    return track


def cli(*args) -> int:
    """``python -m core ARGS`` in this process (``run_cli`` starts one: seconds each)."""
    return cli_main([str(a) for a in args])


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """``generate --motion`` of the known track on a 256 px portrait, with --video (silent)."""
    tmp = tmp_path_factory.mktemp("capture")
    known = known_track()
    known.save(tmp / "known.npz")
    code = cli(
        "generate", "--image", SAD_IMAGE, "--motion", tmp / "known.npz", "--out", tmp / "take",
        "--video", tmp / "clip.mp4", "--quiet",
    )  # fmt: skip
    assert code == 0
    return tmp, known


def _corr(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1])


def test_generate_motion_renders_the_given_track(synthetic):
    tmp, known = synthetic
    folder = TakeFolder(tmp / "take")
    record, track = folder.read()
    assert record.status == "complete" and record.fps == FPS and record.n_frames == N
    assert "audio" not in record.inputs and record.inputs["motion"]["sha256"]
    np.testing.assert_allclose(track.data, known.data)
    analyzer = landmark_meter()
    frames = [read_frame(folder.frame_path(i + 1, "png"), "png") for i in range(N)]
    first = read_face(analyzer, frames[0])
    assert first is not None
    features = FaceFeatures(first)
    yaw = []
    for frame in frames:
        reading = read_face(analyzer, frame)
        assert reading is not None
        yaw.append(features.measure(reading)[0])
    assert _corr(np.array(yaw), known["head_yaw"]) >= 0.9
    info = probe_video(tmp / "clip.mp4")
    assert (info.fps, info.n_frames, info.has_audio) == (FPS, N, True)


def test_capture_recovers_the_known_track(synthetic, tmp_path):
    tmp, known = synthetic  # the command as users run it (the other cases run it in-process)
    result = run_cli("capture", "--video", tmp / "clip.mp4", "--out", tmp_path / "cap", "--quiet")
    assert result.returncode == 0, result.stderr
    record, track = TakeFolder(tmp_path / "cap").read()
    assert record.kind == "capture" and track.fps == FPS and track.n_frames == N
    run = json.loads((tmp_path / "cap" / "run.json").read_text())
    assert run["inputs"]["video"]["sha256"] and run["capture"]["frames_without_face"] == 0
    channels = ("head_yaw", "head_pitch", "head_roll", "jawOpen", "eyeBlinkLeft", "eyeBlinkRight")
    for channel in channels:
        r = _corr(track[channel], known[channel])
        assert r >= 0.9, f"{channel}: r = {r:.3f}"
    assert run["capture"]["detector_frames"] <= 3  # followed, not found afresh, per frame
    # Head angles in degrees and of the right sign (the warp flattens turns: roll is full).
    assert np.polyfit(known["head_roll"], track["head_roll"], 1)[0] > 0.6
    blinks = track["eyeBlinkRight"]
    assert blinks[[11, 12, 34, 35]].min() > 0.5 and np.median(blinks) < 0.1


def test_capture_without_smoothing_and_the_api(synthetic):
    tmp, known = synthetic
    seen = []
    raw = capture_video(tmp / "clip.mp4", CaptureOptions(smooth=False), lambda f, m: seen.append(f))
    assert raw.gaps == [] and raw.notes == [] and seen[-1] == 1.0
    assert raw.track.meta["generator"] == "capture"
    assert _corr(raw.track["head_yaw"], known["head_yaw"]) >= 0.9


@pytest.mark.parametrize("name", ["d10.mp4", "d12.mp4"])
def test_shared_real_clips_have_a_face_in_every_frame(name):
    """Every frame of the two real talking clips (448 and 183 frames; about 20 s with the
    tracker; only where ../shared is)."""
    source = shared_path(f"video/{name}")
    result = capture_video(source)
    assert result.found.all(), describe_gaps(result.found)
    assert result.track.n_frames == result.video.n_frames == probe_video(source).n_frames
    # A talker moves: the head turns or nods (degrees) and the jaw opens.
    turns = [float(np.std(result.track[f"head_{a}"])) for a in ("yaw", "pitch", "roll")]
    assert max(turns) > 1.0 and result.track["jawOpen"].max() > 0.3, turns


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True)


def test_bad_inputs_are_one_sentence(tmp_path, capsys):
    no_face = tmp_path / "no_face.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x96:rate=10", "-t", "1", "-pix_fmt", "yuv420p",
            str(no_face))  # fmt: skip
    vfr = tmp_path / "vfr.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=25", "-t", "2", "-vf",
            "setpts='if(lt(N,25),N,25+(N-25)*3)/25/TB'", "-fps_mode", "vfr", "-pix_fmt",
            "yuv420p", str(vfr))  # fmt: skip
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(0).bytes(4000))
    cases = {
        no_face: "No face is found in any frame",
        vfr: "variable frame rate",
        corrupt: "cannot be read as a video",
        tmp_path / "missing.mp4": "does not exist",
        SAD_IMAGE.parent.parent / "audio" / "espeak_pauses.wav": "has no video stream",
    }
    for video, words in cases.items():
        out = tmp_path / f"take_{video.stem}"
        capsys.readouterr()
        code = cli("capture", "--video", video, "--out", out, "--quiet")
        lines = capsys.readouterr().err.strip().splitlines()
        assert code == 2, (video, lines)
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
        assert not out.exists()  # nothing written


def test_generate_needs_audio_or_motion(tmp_path, capsys):
    assert cli("generate", "--image", SAD_IMAGE, "--out", tmp_path / "t") == 2
    assert "--motion" in capsys.readouterr().err
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    assert cli("generate", "--image", SAD_IMAGE, "--motion", bad, "--out", tmp_path / "t") == 2
    assert "cannot be read as a MotionTrack" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_fill_and_gaps():
    found = np.array([False, True, True, False, False, True, False])
    values = np.arange(7, dtype=float)[:, None] * np.array([[1.0, 10.0]])
    filled = fill_missing(values, found)
    np.testing.assert_allclose(filled[:, 0], [1, 1, 2, 3, 4, 5, 5])
    assert gaps(found) == [(1, 1), (4, 5), (7, 7)]
    assert describe_gaps(found) == "4 frames without a face (1, 4-5, 7), filled"
    assert describe_gaps(np.ones(3, bool)) == ""


def test_one_euro_removes_jitter_without_lag():
    fps = 30.0
    rng = np.random.default_rng(1)
    step = np.r_[np.zeros(60), np.ones(60)]
    noisy = step + rng.normal(0, 0.05, step.size)
    out = one_euro(noisy, fps, min_cutoff=1.5, beta=1.0)
    assert np.std(out[20:60]) < 0.5 * np.std(noisy[20:60])  # still: jitter smoothed
    assert out[62] > 0.7  # a step is followed within two frames (a 5-frame mean: 0.4)
    moving = np.convolve(noisy, np.ones(5) / 5)[: step.size]
    assert out[62] > moving[62]


def test_zero_lag_one_euro_keeps_a_moves_timing():
    fps = 30.0
    t = np.arange(90) / fps
    wave = np.sin(2 * np.pi * t / 1.2)
    noisy = wave + np.random.default_rng(2).normal(0, 0.05, t.size)
    causal = one_euro(noisy, fps, 1.5, 1.0)
    both = one_euro_zero_lag(noisy, fps, 1.5, 1.0)

    def lag(x: np.ndarray) -> int:
        return int(np.argmax([np.dot(x[10 + k : 80 + k], wave[10:80]) for k in range(-5, 6)])) - 5

    assert lag(causal) >= 1 and lag(both) == 0
    assert np.std(np.diff(both, 2)) < 0.5 * np.std(np.diff(noisy, 2))  # still smoothed


def test_tracker_follows_the_face_and_finds_it_again():
    """The detector runs on the first frame and after the face was lost, not on every one."""
    face = read_frame(SAD_IMAGE, "png")
    blank = np.zeros_like(face)
    frames = [face, np.roll(face, 3, axis=1), np.roll(face, 6, axis=1), blank, face]
    tracker = FaceTracker(landmark_meter())
    readings = [tracker.read(f) for f in frames]
    assert [r is not None for r in readings] == [True, True, True, False, True]
    assert tracker.detector_runs == 3  # the first frame, the blank one, the face again
    shift = readings[2].landmarks[:, 0] - readings[0].landmarks[:, 0]
    assert abs(float(np.median(shift)) - 6) < 1.0  # the followed face moved with the image
    # Followed or found afresh, a frame reads the same (within 1 % of the face's width).
    fresh = read_face(landmark_meter(), frames[2])
    width = np.ptp(fresh.landmarks[:, 0])
    assert np.abs(readings[2].landmarks - fresh.landmarks)[:, :2].mean() < 0.01 * width


def test_frame_spacing():
    assert frame_spacing(list(range(0, 3000 * 50, 3000))) == (0.0, 3000, 3000)
    ms = [round(i * 1000 / 30) for i in range(60)]  # 30 fps in milliseconds: 33, 33, 34
    assert frame_spacing(ms)[0] == 0.0
    share, shortest, longest = frame_spacing([0, 40, 80, 120, 200, 240, 280])
    assert (shortest, longest) == (40, 80) and share > 0.2


def test_open_eye_level_follows_the_head_turn():
    """An open eye that reads narrower as the head turns is not a half blink."""
    yaw = 12 * np.sin(np.arange(100) / 8)
    opening = 0.26 - 0.0015 * yaw
    opening[40:44] = (0.15, 0.11, 0.11, 0.15)  # a blink
    blink, _ = eye_closure(opening, yaw)
    assert blink[41] > 0.9 and np.delete(blink, range(40, 44)).max() < 0.02
    still, _ = eye_closure(opening)  # the level of the clip as a whole
    assert np.delete(still, range(40, 44)).max() > 0.1


def test_constant_rate_in_milliseconds_is_not_variable(tmp_path):
    """MKV and WebM time frames in milliseconds: 30 fps is 33, 33, 34 ms, still constant
    (ffmpeg's vfrdet, which the probe used before, called it variable)."""
    clip = tmp_path / "ms.mkv"
    _ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=30", "-t", "1", "-pix_fmt", "yuv420p",
            str(clip))  # fmt: skip
    info = probe_video(clip)
    assert (info.fps, info.n_frames) == (30.0, 30)
