"""Frames streamed as they are rendered, for a player or an encoder reading a pipe.

``generate --stream -`` writes every frame, as soon as it is rendered, to standard output as
raw 8-bit RGB (what ffplay and ffmpeg read with ``-f rawvideo -pixel_format rgb24``), beside
the take's files, so a take can be watched while it renders. A reader that goes away (the
player closed) ends the stream, not the take.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from .frames import FrameWriter


def player_command(width: int, height: int, fps: float) -> str:
    """The ffplay command line that shows the stream (ffmpeg takes the same input flags)."""
    return (
        f"ffplay -f rawvideo -pixel_format rgb24 -video_size {width}x{height} "
        f"-framerate {fps:g} -i -"
    )


class StreamSink:
    """Writes frame bytes to ``out`` in order; stops quietly once the reader has gone."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.closed_by_reader = False

    def __call__(self, index: int, data: bytes) -> None:
        if self.closed_by_reader:
            return
        try:
            self.out.write(data)
            self.out.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError):
            self.closed_by_reader = True


def stream_writer(out: BinaryIO) -> FrameWriter:
    """A frame writer (its own thread, bounded queue) that sends raw RGB to ``out``."""
    return FrameWriter(
        Path("-"), {}, encoder=lambda frame: frame.tobytes(), sink=StreamSink(out), max_pending=2
    )
