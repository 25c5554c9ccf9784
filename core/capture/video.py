"""Reading a video's frames and frame rate with the ffmpeg that imageio-ffmpeg ships.

``probe_video`` reads the container without decoding a frame (ffmpeg copies the video
stream's packets to its ``framecrc`` listing: tens of milliseconds for a minute of video):
the header gives the size, rate and audio, the packets' presentation times say how many
frames there are and whether they are evenly spaced. A variable-frame-rate video, a file
ffmpeg cannot read and a file without a video stream are each one sentence
(``VideoError``), before any frame is measured. ``read_frames`` then decodes once,
streaming RGB frames through a pipe as they were stored (no frames dropped or repeated),
so memory stays bounded whatever the length; a stream that cannot be decoded is one
sentence there.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import VasaError
from ..take.video import ffmpeg_exe, video_rate

# Frames whose spacing differs from the one before: above this share a video counts as
# variable-frame-rate (a constant-rate file measures 0; a phone's VFR clip tens of percent).
VFR_SHARE = 0.02
VFR_SPREAD = 1.5  # ... or when one frame stays this many times longer than the shortest
MAX_SIDE = 8192


class VideoError(VasaError):
    """The reference video is missing, unreadable, has no picture or an uneven frame rate."""


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    n_frames: int
    has_audio: bool

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    except OSError as exc:  # pragma: no cover - ffmpeg ships with imageio-ffmpeg
        raise VideoError(f"ffmpeg could not be started ({exc}); reinstall imageio-ffmpeg.") from exc


def probe_video(path: str | Path) -> VideoInfo:
    """Size, frame rate, frame count and audio of ``path``'s first video stream; one
    sentence (``VideoError``) when it cannot be read, has no video or a variable rate."""
    path = Path(path)
    if not path.is_file():
        raise VideoError(f"The video {path} does not exist; check the path.")
    result = _run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", str(path), "-map", "0:v:0?"]
        + ["-c", "copy", "-f", "framecrc", "-"]
    )
    err = result.stderr
    streams = re.findall(r"Stream #\d+:\d+.*?: (Video|Audio): (.*)", err)
    video = [line for kind, line in streams if kind == "Video" and "attached pic" not in line]
    if result.returncode != 0 and not video:
        raise VideoError(
            f"{path.name} cannot be read as a video (it is damaged or not a video file); "
            "give an MP4, MOV, MKV or WebM with a picture."
        )
    if not video:
        raise VideoError(
            f"{path.name} has no video stream (only sound or data); give a video of a face."
        )
    size = re.search(r"[ ,](\d{2,5})x(\d{2,5})[ ,]", video[0])
    rate = re.search(r"([\d.]+)(k?) fps", video[0]) or re.search(r"([\d.]+)(k?) tbr", video[0])
    # framecrc lines: stream, dts, pts, duration, size, crc (in the stream's time base).
    pts = sorted(
        int(line.split(",")[2])
        for line in result.stdout.splitlines()
        if line[:1].isdigit() and line.count(",") >= 5
    )
    if result.returncode != 0 or not size or not rate or not pts:
        raise VideoError(
            f"{path.name} cannot be decoded (its video stream is damaged or of an unknown "
            "kind); re-encode it, for example as H.264 MP4."
        )
    width, height = int(size.group(1)), int(size.group(2))
    turn = re.search(r"rotation of (-?[\d.]+) degrees", err)
    if turn and round(abs(float(turn.group(1)))) % 180 == 90:  # ffmpeg turns it upright
        width, height = height, width
    fps = float(rate.group(1)) * (1000 if rate.group(2) else 1)
    share, shortest, longest = frame_spacing(pts)
    if share > VFR_SHARE or longest > VFR_SPREAD * shortest:
        raise VideoError(
            f"{path.name} has a variable frame rate (some frames last "
            f"{longest / max(shortest, 1):.1f} times as long as others); convert it to a "
            "constant rate first, for example "
            f"ffmpeg -i {path.name} -fps_mode cfr -r {round(fps)} fixed.mp4."
        )
    if not (0 < fps <= 1000) or max(width, height) > MAX_SIDE:
        raise VideoError(
            f"{path.name} reads as {width}x{height} at {fps:g} fps, which is not a usable "
            f"video; give one up to {MAX_SIDE} px a side."
        )
    return VideoInfo(
        path,
        width,
        height,
        float(video_rate(fps)),
        len(pts),
        any(kind == "Audio" for kind, _ in streams),
    )


def frame_spacing(pts: list[int]) -> tuple[float, int, int]:
    """(share of frames whose spacing changes, shortest, longest spacing) of sorted
    presentation times, as ffmpeg's ``vfrdet`` counts them, except that spacings one tick
    apart count as equal (30 fps in milliseconds is 33, 33, 34)."""
    deltas = np.diff(np.asarray(pts, np.int64))
    if deltas.size < 2:
        return 0.0, 1, 1
    changed = np.abs(np.diff(deltas)) > 1
    return float(changed.mean()), max(int(deltas.min()), 1), max(int(deltas.max()), 1)


def read_frames(info: VideoInfo) -> Iterator[np.ndarray]:
    """The video's frames as RGB uint8 [height, width, 3], in order, as stored."""
    cmd = [ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-i", str(info.path)]
    cmd += ["-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo"]
    cmd += ["-pix_fmt", "rgb24", "-"]
    size = info.width * info.height * 3
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    count = 0
    try:
        while True:
            buf = proc.stdout.read(size)
            if len(buf) < size:
                break
            count += 1
            yield np.frombuffer(buf, np.uint8).reshape(info.height, info.width, 3)
        if count == 0 and proc.wait() != 0:
            raise VideoError(
                f"{info.path.name} cannot be decoded (its video stream is damaged or of an "
                "unknown kind); re-encode it, for example as H.264 MP4."
            )
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()


def extract_audio(info: VideoInfo, out_path: Path) -> Path:
    """The video's sound as 16 kHz mono WAV at ``out_path`` (for the calibration take)."""
    if not info.has_audio:
        raise VideoError(f"{info.path.name} has no sound; the calibration needs a talking clip.")
    result = _run(
        [ffmpeg_exe(), "-nostdin", "-y", "-loglevel", "error", "-i", str(info.path), "-map"]
        + ["0:a:0", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", str(out_path)]
    )
    if result.returncode != 0 or not out_path.is_file():
        raise VideoError(f"The sound of {info.path.name} cannot be decoded; re-encode the video.")
    return out_path
