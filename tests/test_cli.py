"""The command line, run as users run it: ``python -m core ...`` in a subprocess."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args, run_cli

from core.audio import SAMPLE_RATE, load_audio


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def other_lines(stderr: str) -> list[str]:
    """stderr lines that are neither the error, progress nor a libpng warning."""
    return [
        line
        for line in stderr.splitlines()
        if not line.startswith(("error:", "[", "libpng warning"))
    ]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Two seconds of the bundled speech sample."""
    path = tmp_path_factory.mktemp("cli") / "speech_2s.wav"
    sf.write(str(path), load_audio(SAMPLE_AUDIO)[: 2 * SAMPLE_RATE], SAMPLE_RATE)
    return path


def test_help():
    top = run_cli("--help")
    assert top.returncode == 0
    assert "generate" in top.stdout and "bench" in top.stdout
    sub = run_cli("generate", "--help")
    assert sub.returncode == 0
    for flag in ("--image", "--audio", "--out", "--fps", "--seed", "--overwrite", "--video"):
        assert flag in sub.stdout, flag


def test_generate_frames_and_video(clip: Path, tmp_path: Path):
    out = tmp_path / "take"
    video = tmp_path / "take.mp4"
    result = run_cli(
        "generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, "--video", video
    )
    assert result.returncode == 0, result.stderr
    assert "complete: 50/50 frames" in result.stdout
    assert f"video: {video}" in result.stdout
    assert "Traceback" not in result.stderr
    frames = sorted((out / "frames").glob("frame_*.png"))
    assert [p.name for p in frames] == [f"frame_{i:06d}.png" for i in range(1, 51)]
    assert cv2.imread(str(frames[-1])).shape == (512, 512, 3)
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete" and record["frames_written"] == 50
    assert video.is_file() and video.stat().st_size > 20_000
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())  # no temp mp4 left

    import imageio_ffmpeg

    n_frames, seconds = imageio_ffmpeg.count_frames_and_secs(str(video))
    assert n_frames == 50
    assert seconds == pytest.approx(2.0, abs=0.1)


def _gray(folder: Path) -> Path:
    path = folder / "gray.png"
    cv2.imwrite(str(path), np.full((256, 256, 3), 128, np.uint8))
    return path


@pytest.mark.parametrize("quiet", [False, True], ids=["progress", "quiet"])
@pytest.mark.parametrize("case", ["missing-audio", "no-face"])
def test_bad_input_is_one_error_line(case: str, quiet: bool, clip: Path, tmp_path: Path):
    if case == "missing-audio":
        image, audio, phrase = SAMPLE_IMAGE, tmp_path / "nope.wav", "Audio file not found"
    else:
        image, audio, phrase = _gray(tmp_path), clip, "No face found"
    out = tmp_path / "take"
    args = ["generate", "--image", image, "--audio", audio, "--out", out]
    result = run_cli(*args, *(["--quiet"] if quiet else []))
    assert result.returncode == 2
    errors = error_lines(result.stderr)
    assert len(errors) == 1, result.stderr
    assert phrase in errors[0]
    assert "Traceback" not in result.stderr
    assert other_lines(result.stderr) == [], result.stderr
    if quiet:
        assert not any(line.startswith("[") for line in result.stderr.splitlines())
    assert result.stdout == ""
    assert not out.exists()


def test_existing_take_needs_overwrite(clip: Path, tmp_path: Path):
    out = tmp_path / "take"
    (out / "frames").mkdir(parents=True)
    (out / "frames" / "frame_000001.png").write_bytes(b"old frame")
    (out / "run.json").write_text('{"status": "complete"}\n')
    result = run_cli("generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, "--quiet")
    assert result.returncode == 2
    errors = error_lines(result.stderr)
    assert len(errors) == 1 and "--overwrite" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert (out / "run.json").read_text() == '{"status": "complete"}\n'
    assert (out / "frames" / "frame_000001.png").read_bytes() == b"old frame"
    assert sorted(p.name for p in out.rglob("*")) == ["frame_000001.png", "frames", "run.json"]


@pytest.mark.parametrize(
    "args, says",
    [
        (["generate", "--image", "x.png"], "the following arguments are required: --out"),
        (
            ["generate", "--image", "x", "--audio", "y", "--out", "z", "--fps", "fast"],
            "argument --fps: invalid float value: 'fast'",
        ),
        (["generate", "--emotion", "furious"], "argument --emotion: invalid choice: 'furious'"),
        (["render"], "invalid choice: 'render'"),
        (
            ["generate", "--image", "x", "--audio", "y", "--out", "z", "--frobnicate"],
            "unrecognized arguments: --frobnicate",
        ),
    ],
)
def test_bad_arguments_are_one_error_line(args, says):
    result = run_cli(*args)
    assert result.returncode == 2
    assert error_lines(result.stderr) == result.stderr.strip().splitlines()
    assert len(result.stderr.strip().splitlines()) == 1 and says in result.stderr


@pytest.mark.parametrize(
    "flags, says",
    [
        (["--threads", "100000"], "CPU threads 100000 is out of range; use 0"),
        (["--threads", "-1"], "CPU threads -1 is out of range"),
        (["--fps", "0"], "Frame rate 0 is out of range; use a rate above 0 and at most 240"),
        (["--seed", "-3"], "Seed -3 is out of range; use 0 to 2147483647."),
    ],
)
def test_settings_out_of_range_are_one_sentence(flags, says, clip, tmp_path):
    out = tmp_path / "take"
    result = run_cli("generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, *flags)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and says in lines[0]
    assert not out.exists()  # refused before anything was written


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_cancels_cleanly(sig, tmp_path: Path):
    """Ctrl-C and SIGTERM (timeout, docker stop, farm managers) alike: exit 130, complete
    frames kept, run.json says cancelled and where it stopped."""
    audio = tmp_path / "long.wav"
    voice = load_audio(SAMPLE_AUDIO)
    sf.write(audio, np.tile(voice, 4), SAMPLE_RATE)
    out = tmp_path / "take"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", *generate_args(SAMPLE_IMAGE, audio, out, "--quiet")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((out / "frames").glob("frame_00001*.png")):
        time.sleep(0.05)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "cancelled" and record["stopped_at_frame"] >= 10
    assert record["frames_written"] < record["n_frames"]
    frames = sorted((out / "frames").glob("frame_*.png"))
    assert len(frames) == record["frames_written"]  # only complete frames, numbered from 1
