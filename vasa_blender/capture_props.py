"""Scene properties of *Capture* (``scene.talking_head.capture``): which video to read, a
movie strip of the sequencer or a file on disk."""

from __future__ import annotations

import bpy
from bpy.props import EnumProperty, StringProperty

from . import compat

CAPTURE_KINDS = [
    ("STRIP", "Movie Strip", "A movie strip in the sequencer (its whole file is read)"),
    ("FILE", "Video File", "A video file on disk"),
]


class CaptureState(bpy.types.PropertyGroup):
    kind: EnumProperty(name="Video", items=CAPTURE_KINDS, default="STRIP")
    strip: StringProperty(
        name="Movie Strip",
        description="Movie strip of a talking face; empty uses the only movie strip of the scene",
    )
    file: StringProperty(
        name="Video File",
        subtype="FILE_PATH",
        options=compat.RELATIVE_PATH_OPTIONS,
        description="A talking-face video (MP4, MOV, MKV, WebM) at a constant frame rate",
    )


CLASSES = (CaptureState,)
