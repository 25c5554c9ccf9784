"""A stand-in model pack profile that proves the stage seam: its renderer returns the photo
tinted red by ``jawOpen`` and renders in batches of ``BATCH`` rows.

Registered only through the profile registry (``register``), it must run the real pipeline,
re-render, the evaluation sweep and the Blender Generate with no change outside the
registry. Used from pytest (``core``) and from a Blender scenario (the installed extension's
``...talking_head.core``), so it takes the engine's modules as arguments instead of
importing them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import numpy as np

NAME = "test-tint"
BATCH = 4
TINT = 120.0  # red added at jawOpen = 1, grey levels


def make_renderer_class(stages: ModuleType) -> type:
    class TintRenderer(stages.Renderer):
        """The photo, its red channel raised in proportion to jawOpen."""

        batch_size = BATCH
        batches: list[int] = []  # sizes of the batches asked for (shared, for the tests)

        def __init__(self, image: np.ndarray, face) -> None:
            self.image = image
            self.face = face

        @property
        def image_size(self) -> tuple[int, int]:
            return self.face.image_size

        def render(self, channels) -> np.ndarray:
            frame = self.image.astype(np.float32)
            frame[..., 0] += TINT * float(channels.get("jawOpen", 0.0))
            return np.clip(np.round(frame), 0, 255).astype(np.uint8)

        def render_batch(self, rows, channels):
            TintRenderer.batches.append(len(rows))
            return super().render_batch(rows, channels)

    return TintRenderer


def register(profiles: ModuleType, stages: ModuleType) -> type:
    """Register the stand-in profile; returns its renderer class."""
    renderer = make_renderer_class(stages)
    profiles.register_profile(
        profiles.Profile(
            NAME,
            profiles.MEDIAPIPE_FACE_MODELS,
            profiles.mediapipe_face,
            profiles.procedural_motion,
            lambda pack, image, face: renderer(image, face),
            "test stand-in: the photo tinted by jawOpen",
        ),
        replace=True,
    )
    return renderer


def make_pack(builtin: Path, folder: Path) -> Path:
    """A pack folder of the stand-in profile holding the built-in face models."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["[pack]", 'name = "tint"', f'profile = "{NAME}"', 'license = "Apache-2.0"', ""]
    for onnx in sorted(builtin.glob("*.onnx")):
        shutil.copy2(onnx, folder / onnx.name)
    toml = (builtin / "pack.toml").read_text()
    models = toml[toml.index("[models.") :]
    (folder / "pack.toml").write_text("\n".join(lines) + "\n" + models)
    return folder


def red_gain(frame: np.ndarray, photo: np.ndarray) -> float:
    """Mean red added to the photo, in units of jawOpen (over pixels that cannot clip)."""
    room = photo[..., 0] <= 255 - TINT
    return float((frame[..., 0][room].astype(np.float32) - photo[..., 0][room]).mean() / TINT)
