"""The image plane plays the take: an image-sequence texture swapped into its material.

The original photo stays in the file (the take image remembers its name in a custom
property), so *Show Photo* / *Show Take* switch the texture back and forth.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import bpy

from ..core.take.frames import frame_name

TAKE_KEY = "talking_head_take"  # custom property on a take image: its original image's name


def write_hold_frame(frames_dir: Path, fmt: str) -> None:
    """Copy frame 1 to frame 0: before its start frame Blender's image user asks for frame
    0 of a sequence (it clamps to 0, not to 1), which would show as a missing image."""
    first, hold = frames_dir / frame_name(1, fmt), frames_dir / frame_name(0, fmt)
    if not first.is_file():
        return
    tmp = hold.with_name(f".{hold.name}.tmp")
    shutil.copyfile(first, tmp)
    tmp.replace(hold)


def sequence_image(first_frame: Path, name: str, original: bpy.types.Image) -> bpy.types.Image:
    """A new image datablock reading the take's frames as a sequence."""
    image = bpy.data.images.load(str(first_frame), check_existing=False)
    image.name = name
    image.source = "SEQUENCE"
    if original is not None:
        image[TAKE_KEY] = original.name
        image.alpha_mode = original.alpha_mode
    return image


def set_sequence_timing(
    node: bpy.types.ShaderNodeTexImage, frame_start: int, n_frames: int, offset: int = 0
) -> None:
    """Frame 1 of the sequence shows at scene frame ``frame_start`` (+ trim offset)."""
    user = node.image_user
    user.frame_start = frame_start
    user.frame_duration = n_frames
    user.frame_offset = offset
    user.use_auto_refresh = True
    user.use_cyclic = False


def play_take(
    node: bpy.types.ShaderNodeTexImage, image: bpy.types.Image, frame_start: int, n_frames: int
) -> None:
    node.image = image
    set_sequence_timing(node, frame_start, n_frames)


def show_photo(node: bpy.types.ShaderNodeTexImage, original: bpy.types.Image) -> None:
    node.image = original


def reload(image: bpy.types.Image | None) -> None:
    """Re-read frames from disk after a re-render (the image cache holds old ones)."""
    if image is not None:
        image.reload()
