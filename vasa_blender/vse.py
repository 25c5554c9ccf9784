"""The take's image-sequence strip in the Video Sequence Editor."""

from __future__ import annotations

from pathlib import Path

import bpy

from . import compat

MAX_CHANNEL = 128


def free_channel(scene: bpy.types.Scene, above: int, start: int, end: int) -> int:
    """The lowest channel above ``above`` with no strip overlapping frames [start, end)."""
    for channel in range(above + 1, MAX_CHANNEL + 1):
        if not any(
            s.channel == channel and s.frame_final_start < end and s.frame_final_end > start
            for s in compat.all_strips(scene)
        ):
            return channel
    raise RuntimeError("Every sequencer channel above the sound strip is in use; free one.")


def add_image_strip(
    scene: bpy.types.Scene,
    name: str,
    frames: list[Path],
    channel: int,
    frame_start: int,
    offset_start: int,
    duration: int,
):
    """An image strip of ``frames`` whose content starts at ``frame_start``, trimmed like the
    sound strip (``offset_start`` frames cut at the front, ``duration`` frames shown)."""
    strips = compat.strips(scene)
    strip = strips.new_image(name, str(frames[0]), channel, frame_start)
    for path in frames[1:]:
        strip.elements.append(path.name)
    strip.frame_offset_start = offset_start
    strip.frame_final_duration = duration
    strip.channel = channel  # new_image may have moved it; keep it where we chose
    strip.color_tag = "COLOR_05"
    return strip


def refresh_strip(strip) -> None:
    """Drop the sequencer's cached images of ``strip`` so re-rendered frames show."""
    if hasattr(strip, "invalidate_cache"):
        strip.invalidate_cache("RAW")


def remove_strip(scene: bpy.types.Scene, strip) -> None:
    compat.strips(scene).remove(strip)
