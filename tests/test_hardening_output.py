"""``python -m core generate --video``: the path is checked before anything is rendered, ffmpeg's
failures are one sentence, Ctrl-C while muxing leaves no temporary file, and the MP4 has every
frame of the take at NTSC and PAL rates alike."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE

from core.audio import SAMPLE_RATE, load_audio
from core.errors import OutputError
from core.take.video import check_video_target, ffmpeg_exe, video_rate

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0  # root writes into read-only folders


def cli(*args: str | Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=None if env is None else {**os.environ, **env},
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by relative path, with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def count_video_frames(video: Path) -> int:
    """Frames ffmpeg decodes from the video stream (what a player shows)."""
    done = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-i", str(video), "-map", "0:v", "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return int(re.findall(r"frame=\s*(\d+)", done.stderr)[-1])


def stream_seconds(video: Path, stream: str) -> float:
    done = subprocess.run(
        [ffmpeg_exe(), "-nostdin", "-i", str(video), "-map", stream, "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    h, m, s = re.findall(r"time=(\d+):(\d+):([\d.]+)", done.stderr)[-1]
    return int(h) * 3600 + int(m) * 60 + float(s)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """Two seconds of speech: 48 frames at 23.976 fps, 50 at 25, 60 at 29.97."""
    path = tmp_path_factory.mktemp("voice") / "speech_2s.wav"
    sf.write(str(path), load_audio(SAMPLE_AUDIO)[: 2 * SAMPLE_RATE], SAMPLE_RATE)
    return path


@pytest.fixture(scope="module")
def earlier(clip, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A take with its video made before, in a folder of its own, and its files' digests."""
    folder = tmp_path_factory.mktemp("earlier")
    done = cli(
        "generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", folder / "take",
        "--video", folder / "take.mp4", "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return folder, snapshot(folder)


def _fake_ffmpeg(folder: Path, body: str) -> Path:
    exe = folder / "fake-ffmpeg"
    exe.write_text("#!/bin/sh\n" + body)
    exe.chmod(0o755)
    return exe


# name -> (prepare(tmp) -> (video path, extra flags), fragment of the one error line)
REFUSED = {
    "no-suffix": (lambda t: (t / "take", []), "must end in .mp4"),
    "other-suffix": (lambda t: (t / "take.mov", []), "must end in .mp4"),
    "a-folder": (lambda t: (t, []), "is a folder"),
    "under-a-file": (lambda t: (t / "notes.txt" / "take.mp4", []), "is a file, not a folder"),
    "exists": (lambda t: (t / "old.mp4", []), "already exists"),
    "a-folder-named-mp4": (lambda t: (t / "dir.mp4", ["--overwrite"]), "is a folder"),
    "a-dangling-link": (lambda t: (t / "link.mp4", ["--overwrite"]), "not a regular file"),
    "read-only-folder": (lambda t: (t / "locked" / "take.mp4", []), "read-only"),
    "read-only-file": (lambda t: (t / "locked.mp4", ["--overwrite"]), "read-only"),
    "exr-frames": (lambda t: (t / "take.mp4", ["--frame-format", "exr"]), "PNG or JPEG"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_video_path_is_refused_before_rendering(case, clip, earlier, tmp_path):
    if case.startswith("read-only") and (ROOT or sys.platform == "win32"):
        pytest.skip("root (and Windows) ignore read-only permissions; see the in-process test")
    (tmp_path / "notes.txt").write_text("notes")
    (tmp_path / "old.mp4").write_bytes(b"an old video")
    (tmp_path / "dir.mp4").mkdir()
    (tmp_path / "link.mp4").symlink_to(tmp_path / "nowhere.mp4")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked.mp4").write_bytes(b"a protected video")
    (tmp_path / "locked").chmod(0o555)
    (tmp_path / "locked.mp4").chmod(0o444)
    try:
        before = snapshot(tmp_path)
        prepare, fragment = REFUSED[case]
        video, extra = prepare(tmp_path)
        out = tmp_path / "take"
        done = cli(
            "generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out,
            "--video", video, *extra,
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        errors = error_lines(done.stderr)
        assert len(errors) == 1 and fragment in errors[0], done.stderr
        assert errors[0].count(". ") == 0 and errors[0].endswith("."), errors[0]  # one sentence
        assert "Traceback" not in done.stderr and done.stdout == ""
        assert not out.exists()
        assert snapshot(tmp_path) == before  # nothing written, nothing replaced
        assert sorted(p.name for p in tmp_path.iterdir()) == [
            "dir.mp4", "link.mp4", "locked", "locked.mp4", "notes.txt", "old.mp4",
        ]  # fmt: skip
    finally:
        (tmp_path / "locked").chmod(0o755)
        (tmp_path / "locked.mp4").chmod(0o644)
    folder, digests = earlier
    assert snapshot(folder) == digests


@pytest.mark.parametrize("where", ["folder", "file"])
def test_read_only_targets_are_refused_in_process(where, tmp_path, monkeypatch):
    """The read-only checks, also where the tests run as root (which writes anyway)."""
    video = tmp_path / "take.mp4"
    if where == "file":
        video.write_bytes(b"old")
    real_access = os.access
    locked = video if where == "file" else tmp_path
    monkeypatch.setattr(os, "access", lambda p, mode: Path(p) != locked and real_access(p, mode))
    with pytest.raises(OutputError, match="read-only"):
        check_video_target(video, overwrite=True)


# name -> (ffmpeg body or None for the real one, video path under tmp, overwrite?, exit status,
# fragment of the error line or None)
MUXED = {
    "ffmpeg-fails": (
        'echo "a first complaint" >&2\n'
        'echo "fake-ffmpeg: Permission denied on the way out." >&2\nexit 1\n',
        "take.mp4", False, 2, "(fake-ffmpeg: Permission denied on the way out)",
    ),
    "ffmpeg-silent-failure": ("exit 3\n", "take.mp4", False, 2, "(exit status 3)"),
    "missing-folders-are-made": (None, "new/sub/take.mp4", False, 0, None),
    "overwrite-replaces": (None, "old.mp4", True, 0, None),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MUXED))
def test_muxing_after_the_take(case, clip, earlier, tmp_path):
    body, name, overwrite, status, fragment = MUXED[case]
    env = {"IMAGEIO_FFMPEG_EXE": str(_fake_ffmpeg(tmp_path, body))} if body else None
    (tmp_path / "old.mp4").write_bytes(b"an old video")
    video, out = tmp_path / name, tmp_path / "take"
    flags = ["--overwrite"] if overwrite else []
    done = cli(
        "generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, "--video", video,
        "--quiet", *flags, env=env,
    )  # fmt: skip
    assert done.returncode == status, done.stderr
    assert "Traceback" not in done.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete"  # the take stands either way
    assert not list(tmp_path.rglob(".*.tmp.mp4"))
    if fragment is None:
        assert error_lines(done.stderr) == [] and f"video: {video}" in done.stdout
        assert count_video_frames(video) == record["n_frames"] == 50
    else:
        errors = error_lines(done.stderr)
        assert len(errors) == 1 and fragment in errors[0], done.stderr
        assert "ffmpeg could not write" in errors[0] and not video.exists()
    folder, digests = earlier
    assert snapshot(folder) == digests


def test_ctrl_c_while_muxing_leaves_no_temporary_video(clip, earlier, tmp_path):
    fake = _fake_ffmpeg(tmp_path, 'for last; do :; done\nprintf partial > "$last"\nexec sleep 60\n')
    out, video = tmp_path / "take", tmp_path / "take.mp4"
    tmp = tmp_path / ".take.tmp.mp4"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "core", "generate", "--image", str(SAMPLE_IMAGE),
            "--audio", str(clip), "--out", str(out), "--video", str(video), "--quiet",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "IMAGEIO_FFMPEG_EXE": str(fake)},
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not tmp.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert tmp.exists(), proc.communicate(timeout=60)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not tmp.exists() and not video.exists()
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    folder, digests = earlier
    assert snapshot(folder) == digests


@pytest.mark.parametrize("fps, n_frames", [(23.976, 48), (25.0, 50), (29.97, 60)])
def test_the_video_has_every_frame_of_the_take(fps, n_frames, clip, earlier, tmp_path):
    """The take covers the voice with ceil(2 s * fps) frames; at 23.976 and 29.97 the last
    one ends after the voice, and ``-shortest`` used to drop it from the MP4."""
    out, video = tmp_path / "take", tmp_path / "take.mp4"
    done = cli(
        "generate", "--image", SAMPLE_IMAGE, "--audio", clip, "--out", out, "--video", video,
        "--fps", str(fps), "--quiet",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["n_frames"] == record["frames_written"] == n_frames
    assert len(list((out / "frames").glob("frame_*.png"))) == n_frames
    assert count_video_frames(video) == n_frames
    seconds = n_frames / fps
    assert stream_seconds(video, "0:v") == pytest.approx(seconds, abs=0.03)
    assert stream_seconds(video, "0:a") == pytest.approx(seconds, abs=0.03)  # padded voice
    folder, digests = earlier
    assert snapshot(folder) == digests


@pytest.mark.parametrize(
    "fps, rate",
    [
        (23.976, Fraction(24000, 1001)),
        (29.97, Fraction(30000, 1001)),
        (59.94, Fraction(60000, 1001)),
        (24.0, Fraction(24)),
        (25.0, Fraction(25)),
        (12.5, Fraction(25, 2)),
        (23.98, Fraction(1199, 50)),  # not NTSC: the frames were timed at exactly 23.98
    ],
)
def test_video_rate_is_exact(fps, rate):
    assert video_rate(fps) == rate
