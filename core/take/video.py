"""Muxing a take's frames and its audio into an MP4 with the ffmpeg that imageio-ffmpeg ships.

The MP4 holds every frame of the take at the take's rate (23.976, 29.97... as the exact NTSC
fractions 24000/1001, 30000/1001...) and the voice as AAC, padded with silence to the end of
the last frame: a take has ceil(duration * fps) frames, so its last frame may end a little
after the voice does. ``check_video_target`` checks the path before anything is rendered;
the file is written under a temporary name beside it and renamed into place, so a failed or
interrupted mux leaves neither a half-written MP4 nor the temporary file.
"""

from __future__ import annotations

import os
import subprocess
from fractions import Fraction
from pathlib import Path

from ..errors import OutputError
from .frames import FRAME_PATTERN_PRINTF, check_writable_folder

VIDEO_SUFFIX = ".mp4"


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def check_video_target(path: Path, overwrite: bool = False) -> Path:
    """``path`` when an MP4 can be written there, checked before anything is rendered; else an
    ``OutputError`` with one sentence.

    The name must end in ``.mp4``; a missing folder is fine when it can be made (it is made
    when the video is written), a read-only one is not; an existing file is replaced only
    with ``overwrite``, and then only a writable regular file.
    """
    if path.is_dir():
        raise OutputError(
            f"The video path {path} is a folder; give a file name such as "
            f"{path / ('take' + VIDEO_SUFFIX)}."
        )
    if path.suffix.lower() != VIDEO_SUFFIX:
        raise OutputError(
            f"The video {path} must end in {VIDEO_SUFFIX} (an MP4 with H.264 and AAC is "
            f"written); for example --video {path.with_name(path.stem + VIDEO_SUFFIX)}."
        )
    check_writable_folder(path.parent, f"The video {path}")
    if path.exists() or path.is_symlink():
        if not overwrite:
            raise OutputError(
                f"The video {path} already exists; choose another --video path or pass "
                "--overwrite to replace it."
            )
        if not path.is_file() or not os.access(path, os.W_OK):
            raise OutputError(
                f"The video {path} exists and is read-only or not a regular file, so it "
                "is not replaced; choose another --video path."
            )
    return path


def video_rate(fps: float) -> Fraction:
    """The frame rate as ffmpeg should read it: the NTSC rates (23.976, 29.97, 59.94...) as
    N*1000/1001, any other as the nearest fraction with a small denominator."""
    ntsc = Fraction(round(fps * 1.001) * 1000, 1001)
    if ntsc and abs(fps - ntsc) <= 2e-6 * fps:
        return ntsc
    return Fraction(fps).limit_denominator(10_000)


def count_frames(frames_dir: Path, pattern: str = FRAME_PATTERN_PRINTF) -> int:
    """How many frames ``pattern`` numbers from 1 without a gap (what ffmpeg will read)."""
    n = 0
    while (frames_dir / (pattern % (n + 1))).is_file():
        n += 1
    return n


def _temporary_name(out_path: Path) -> Path:
    return out_path.with_name(f".{out_path.stem}.tmp{out_path.suffix}")


def mux_video(
    frames_dir: Path,
    fps: float,
    audio: Path,
    out_path: Path,
    crf: int = 18,
    pattern: str = FRAME_PATTERN_PRINTF,
    overwrite: bool = True,
) -> Path:
    """Encode every frame ``frames_dir/<pattern>`` as H.264, with ``audio`` as AAC padded
    with silence (or cut) to the frames' length, into ``out_path``.

    ffmpeg's failures become an ``OutputError`` that quotes its last line; nothing is left at
    ``out_path`` or its temporary name when it fails or is interrupted. Without
    ``overwrite`` a file that appeared at ``out_path`` meanwhile is not replaced.
    """
    n_frames = count_frames(frames_dir, pattern)
    if n_frames == 0:
        raise OutputError(
            f"There are no frames in {frames_dir} to make {out_path.name} from; "
            "generate the take again."
        )
    rate = video_rate(fps)
    duration = n_frames / rate
    tmp = _temporary_name(out_path)
    cmd = [
        ffmpeg_exe(),
        "-nostdin",
        "-y",
        "-loglevel",
        "error",
        "-framerate",
        f"{rate.numerator}/{rate.denominator}",
        "-start_number",
        "1",
        "-i",
        str(frames_dir / pattern),
        "-i",
        str(audio),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-crf",
        str(crf),
        "-vf",
        "pad=ceil(iw/2)*2:ceil(ih/2)*2",
        "-frames:v",
        str(n_frames),
        "-c:a",
        "aac",
        "-b:a",
        "160k",
        # Not -shortest: the voice ends inside the last frame, and -shortest dropped it.
        "-af",
        "apad",
        "-t",
        f"{float(duration):.6f}",
        str(tmp),
    ]
    try:
        try:
            out_path.parent.mkdir(parents=True, exist_ok=True)
            result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
        except OSError as exc:
            raise OutputError(
                f"ffmpeg could not write {out_path} ({exc.strerror or exc}); check the "
                "output folder and disk space."
            ) from exc
        if result.returncode != 0 or not tmp.is_file():
            lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
            detail = lines[-1].rstrip(".") if lines else f"exit status {result.returncode}"
            raise OutputError(
                f"ffmpeg could not write {out_path} ({detail}); check the output folder "
                "and disk space."
            )
        if not overwrite and (out_path.exists() or out_path.is_symlink()):
            raise OutputError(
                f"The video {out_path} appeared while the take was made and is not "
                "replaced; choose another --video path or pass --overwrite."
            )
        try:
            tmp.replace(out_path)
        except OSError as exc:
            raise OutputError(
                f"The video could not be moved into place at {out_path} "
                f"({exc.strerror or exc}); check the output folder."
            ) from exc
    finally:  # an error or Ctrl-C (subprocess.run has stopped ffmpeg): no temporary file
        tmp.unlink(missing_ok=True)
    return out_path
