"""The stage interfaces: what a face analysis, a motion generator and a renderer must offer.

A model pack's profile (``core.runtime.profiles``) names one implementation of each; the
take code (generate, re-render, evaluation, contact sheets, the benchmark) only ever talks
to these interfaces, so a neural renderer or another motion model plugs in without a change
outside the profile registry. Plain data passes between stages: ``SourceFace``,
``AudioFeatures``, ``MotionTrack`` and RGB uint8 frames as numpy arrays.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .audio import AudioFeatures
from .face.source import SourceFace
from .motion.settings import MotionSettings
from .motion.track import MotionTrack

__all__ = [
    "FaceAnalysis",
    "MotionGenerator",
    "MotionTrack",
    "PortraitConditioned",
    "Renderer",
    "SourceFace",
]

StageProgress = Callable[[float], None]


@runtime_checkable
class FaceAnalysis(Protocol):
    """Finds and measures the portrait's face; made once per pack."""

    def analyze(self, image: np.ndarray, source: str = "the image") -> SourceFace:
        """The (largest) face of an RGB uint8 image; ``ImageError`` naming ``source`` when
        there is none."""
        ...


@runtime_checkable
class MotionGenerator(Protocol):
    """Turns the voice into every channel of a MotionTrack at the features' frame rate."""

    def generate(
        self,
        features: AudioFeatures,
        settings: MotionSettings,
        samples: np.ndarray | None = None,
        progress: StageProgress | None = None,
    ) -> MotionTrack:
        """One track with ``features.n_frames`` rows; deterministic for ``settings.seed``.

        ``meta`` should name the ``generator`` (and may hold ``lipsync_mode`` and ``notes``
        for the user): ``run.json`` records them under ``motion``."""
        ...


@runtime_checkable
class PortraitConditioned(Protocol):
    """A motion generator whose motion depends on the portrait (Ditto's is conditioned on
    the photo's own pose and keypoints): the take binds the portrait before ``generate``."""

    def bind_portrait(self, image: np.ndarray, face: SourceFace) -> None:
        """Read what the motion needs of the portrait (RGB uint8) and its analysed face."""
        ...


class Renderer(ABC):
    """Renders frames of one portrait; a profile's factory makes one per take.

    Frames are RGB uint8 at the portrait's full size. The take's frame loop hands over whole
    MotionTrack rows, ``batch_size`` at a time, so a GPU renderer can batch them; the built-in
    renderer goes frame by frame.
    """

    batch_size: int = 1

    @property
    @abstractmethod
    def image_size(self) -> tuple[int, int]:
        """(width, height) of every frame."""

    @property
    def changing_box(self) -> tuple[int, int, int, int] | None:
        """The box (x0, y0, x1, y1) outside which every frame equals the portrait (the PNG
        writer encodes the rest once per take); None when any pixel may change."""
        return None

    @abstractmethod
    def render(self, channels: Mapping[str, float]) -> np.ndarray:
        """One frame for channel values by name (missing channels are neutral)."""

    def render_batch(self, rows: np.ndarray, channels: Sequence[str]) -> list[np.ndarray]:
        """One frame per row of [B, C] MotionTrack rows whose columns are ``channels``."""
        names = tuple(channels)
        return [self.render(dict(zip(names, map(float, row), strict=True))) for row in rows]
