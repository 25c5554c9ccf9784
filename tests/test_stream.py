"""``generate --stream``: frames reach a reader as they are rendered, raw RGB24, the same
pixels as the take's files; a reader that goes away ends the stream, not the take."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args

from core.face.portrait import load_image

FRAME_BYTES = 512 * 512 * 3


def _short_voice(tmp_path, seconds: float = 1.2):
    speech, sr = sf.read(SAMPLE_AUDIO, dtype="float32")
    path = tmp_path / "voice.wav"
    sf.write(path, speech[: int(seconds * sr)], sr)
    return path


def test_stream_to_stdout_matches_the_frames_and_comes_while_rendering(tmp_path):
    take = tmp_path / "take"
    cmd = [sys.executable, "-m", "core", *generate_args(SAMPLE_IMAGE, _short_voice(tmp_path), take)]
    proc = subprocess.Popen(
        [*cmd, "--stream", "-", "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = proc.stdout.read(FRAME_BYTES)
    # The first frame arrived before the take was finished: run.json still says running.
    status = json.loads((take / "run.json").read_text())["status"]
    rest = proc.stdout.read()
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0, err
    assert status == "running"
    record = json.loads((take / "run.json").read_text())
    n = record["n_frames"]
    assert len(first) + len(rest) == n * FRAME_BYTES
    assert "ffplay -f rawvideo -pixel_format rgb24 -video_size 512x512 -framerate 25" in err
    assert "complete:" in err  # the summary goes to stderr: stdout carries the frames
    frames = np.frombuffer(first + rest, np.uint8).reshape(n, 512, 512, 3)
    for i in (0, n // 2, n - 1):
        np.testing.assert_array_equal(
            frames[i], load_image(take / "frames" / f"frame_{i + 1:06d}.png")
        )
    assert 0 < record["timings_s"]["first_frame"] < record["timings_s"]["total"]


def test_a_reader_that_goes_away_ends_the_stream_not_the_take(tmp_path):
    take = tmp_path / "take"
    cmd = [sys.executable, "-m", "core", *generate_args(SAMPLE_IMAGE, _short_voice(tmp_path), take)]
    proc = subprocess.Popen(
        [*cmd, "--stream", "-", "--quiet"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert len(proc.stdout.read(FRAME_BYTES)) == FRAME_BYTES
    proc.stdout.close()  # the player is closed
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    err = proc.stderr.read().decode()
    assert proc.returncode == 0, err
    record = json.loads((take / "run.json").read_text())
    assert record["status"] == "complete" and record["frames_written"] == record["n_frames"]


def test_stream_to_a_file(tmp_path):
    out = tmp_path / "frames.rgb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            *generate_args(SAMPLE_IMAGE, _short_voice(tmp_path, 0.5), tmp_path / "take"),
            "--stream",
            str(out),
            "--quiet",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    n = json.loads((tmp_path / "take" / "run.json").read_text())["n_frames"]
    assert out.stat().st_size == n * FRAME_BYTES
    assert "complete:" in done.stdout  # not streaming to stdout: the summary stays there
