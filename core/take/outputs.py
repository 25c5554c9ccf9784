"""Which frame folders a take has, and the writers that fill them.

``output`` "full" writes full frames to ``frames/``; "crop512" writes VASA-1's 512x512 face
crops there instead; "both" writes full frames and the crops to ``crop512/`` beside them.
Generate writes into the take folder, re-render into its staging folder: the same layout,
the same encoders (PNG bytes of the pixels the renderer never changes are compressed
once per take).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..stages import Renderer
from .crop import FaceCrop
from .frames import FrameWriter
from .loop import FrameTarget
from .png import StillRegionPng
from .record import CROP_DIR, FRAMES_DIR
from .settings import Settings


def layout(output: str) -> tuple[tuple[str, bool], ...]:
    """(folder, holds crops) of each frame folder for an ``output`` setting."""
    if output == "crop512":
        return ((FRAMES_DIR, True),)
    if output == "both":
        return ((FRAMES_DIR, False), (CROP_DIR, True))
    return ((FRAMES_DIR, False),)


def folders(output: str) -> tuple[str, ...]:
    return tuple(folder for folder, _ in layout(output))


def open_targets(
    root: Path,
    settings: Settings,
    renderer: Renderer,
    image: np.ndarray,
    crop: FaceCrop | None,
    provenance: dict[str, str],
    signer: Callable[[], Callable[[bytes | list[bytes]], bytes | list[bytes]]] | None = None,
) -> list[FrameTarget]:
    """A writer per frame folder under ``root`` (each starts its thread: use them in
    ``loop.render_frames``, which closes them). ``signer``: makes each writer's frame
    signer (``marks.frame_credentials.frame_signer``; None: frames unsigned)."""
    targets = []
    for folder, cropped in layout(settings.output):
        encoder = None
        box = renderer.changing_box
        if not cropped and settings.frame_format == "png" and box is not None:
            encoder = StillRegionPng(image, box, provenance, settings.png_compression).encode_parts
        writer = FrameWriter(
            root / folder,
            provenance,
            settings.png_compression,
            fmt=settings.frame_format,
            encoder=encoder,
            sign=signer() if signer is not None else None,
        )
        targets.append(FrameTarget(writer, crop if cropped else None))
    return targets
