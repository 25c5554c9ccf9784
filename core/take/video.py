"""Muxing a take's frames and its audio into an MP4 with the ffmpeg that imageio-ffmpeg ships."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import OutputError
from .frames import FRAME_PATTERN_PRINTF


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def mux_video(
    frames_dir: Path,
    fps: float,
    audio: Path,
    out_path: Path,
    crf: int = 18,
    pattern: str = FRAME_PATTERN_PRINTF,
) -> Path:
    """Encode ``frames_dir/<pattern>`` as H.264 with ``audio`` as AAC into ``out_path``."""
    tmp = out_path.with_name(f".{out_path.stem}.tmp{out_path.suffix}")
    cmd = [
        ffmpeg_exe(),
        "-y",
        "-loglevel",
        "error",
        "-framerate",
        f"{fps:.6f}",
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
        "-c:a",
        "aac",
        "-b:a",
        "160k",
        "-shortest",
        str(tmp),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        tmp.unlink(missing_ok=True)
        detail = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise OutputError(
            f"ffmpeg could not write {out_path.name} ({detail}); check the "
            "output folder and disk space."
        )
    tmp.replace(out_path)
    return out_path
