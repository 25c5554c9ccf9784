"""The one factory: a model pack folder in, the stage implementations its profile names out.

Everything that makes frames (generate, re-render, the evaluation sweep, contact sheets,
the benchmark) gets its stages here, so a pack of another profile changes all of them at
once and nothing builds a face analysis or a renderer by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..face.source import SourceFace
from ..stages import FaceAnalysis, MotionGenerator, Renderer
from .packs import ModelPack, open_pack
from .profiles import Profile, get_profile
from .sessions import Runtime, RuntimeConfig

if TYPE_CHECKING:
    from ..face.analyzer import FaceAnalyzer


@dataclass
class Stages:
    """The opened pack and its stages; the renderer is made per portrait."""

    pack: ModelPack
    profile: Profile
    face: FaceAnalysis
    motion: MotionGenerator

    @property
    def runtime(self) -> Runtime:
        return self.pack.runtime

    def renderer(self, image: np.ndarray, face: SourceFace) -> Renderer:
        """A renderer for one portrait and its analysed face."""
        return self.profile.renderer(self.pack, image, face)


def open_stages(
    pack: str | Path | None = None,
    runtime: Runtime | None = None,
    provider: str = "auto",
    threads: int = 0,
    verify_hashes: bool = True,
) -> Stages:
    """Open and verify ``pack`` (the built-in pack when None) and make its stages.

    Sessions run on ``runtime``, or on a new one for ``provider`` and ``threads``.
    """
    runtime = runtime or Runtime(RuntimeConfig(provider, threads))
    opened = open_pack(pack, runtime=runtime, verify_hashes=verify_hashes)
    profile = get_profile(opened.profile)
    return Stages(opened, profile, profile.face(opened), profile.motion(opened))


def landmark_meter(runtime: Runtime | None = None) -> FaceAnalyzer:
    """The built-in MediaPipe analysis: the instrument that quality measurements read
    rendered frames with, whichever pack made them."""
    from ..face.analyzer import FaceAnalyzer

    return FaceAnalyzer(open_pack(None, runtime=runtime or Runtime()))
