"""Model pack profiles: what a pack of each kind must hold, and which stages it runs.

A profile is the contract between a pack folder and the engine. Its ``models`` table says
which ONNX files the pack's ``pack.toml`` must list and the tensor names, shapes and element
types of each (checked by ``packs.open_pack``); its three factories say which face analysis,
motion generator and renderer the pack drives (``factory.open_stages`` calls them). Adding a
pack kind (a neural renderer, another motion model) is one ``register_profile`` call: nothing
else in the engine, the command line or the Blender extension changes.

The factories import their implementations lazily, so the registry can be read (for
checking a pack, or listing what is known) without loading every stage's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ModelPackError

if TYPE_CHECKING:
    import numpy as np

    from ..face.source import SourceFace
    from ..stages import FaceAnalysis, MotionGenerator, Renderer
    from .packs import ModelPack


@dataclass(frozen=True)
class TensorSpec:
    """One tensor, bound by ``name``; an empty name means "the tensor at this position", only
    for files whose project never names its outputs (FaceFusion's, see docs/packs.md)."""

    name: str
    shape: tuple[int | None, ...] | None  # None in a dimension: any size; None: any rank
    dtype: str | tuple[str, ...] = "tensor(float)"  # a tuple: any of them (fp32 or fp16)

    @property
    def dtypes(self) -> tuple[str, ...]:
        return (self.dtype,) if isinstance(self.dtype, str) else self.dtype


@dataclass(frozen=True)
class ModelSpec:
    """One model of a profile. ``files`` are the names it is published under (``pack init``
    finds it by them); ``alternatives`` are the same network as another project exported it
    (other tensor names or units), any one of which a pack may hold; ``optional`` models may
    be left out of a pack."""

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    files: tuple[str, ...] = ()
    optional: bool = False
    alternatives: tuple[ModelSpec, ...] = ()
    label: str = ""

    def variants(self) -> tuple[ModelSpec, ...]:
        return (self, *self.alternatives)


@dataclass(frozen=True)
class Profile:
    """One kind of model pack: its tensor contract and the stages it makes."""

    name: str
    models: Mapping[str, ModelSpec]
    face: Callable[[ModelPack], FaceAnalysis]
    motion: Callable[[ModelPack], MotionGenerator]
    renderer: Callable[[ModelPack, np.ndarray, SourceFace], Renderer]
    description: str = ""


# MediaPipe's face models as converted by tools/convert_face_models.py.
MEDIAPIPE_FACE_MODELS: dict[str, ModelSpec] = {
    "face_detector": ModelSpec(
        (TensorSpec("input", (1, 128, 128, 3)),),
        (TensorSpec("regressors", (1, 896, 16)), TensorSpec("classificators", (1, 896, 1))),
        files=("face_detection_short_range.onnx",),
    ),
    "face_landmarks": ModelSpec(
        (TensorSpec("input_1", (1, 192, 192, 3)),),
        (TensorSpec("conv2d_21", (1, 1, 1, 1404)), TensorSpec("conv2d_31", (1, 1, 1, 1))),
        files=("face_landmark.onnx",),
    ),
    "iris_landmarks": ModelSpec(
        (TensorSpec("input_1", (1, 64, 64, 3)),),
        (
            TensorSpec("output_eyes_contours_and_brows", (1, 213)),
            TensorSpec("output_iris", (1, 15)),
        ),
        files=("iris_landmark.onnx",),
    ),
}


def mediapipe_face(pack: ModelPack) -> FaceAnalysis:
    """The built-in face analysis on a pack that holds ``MEDIAPIPE_FACE_MODELS``."""
    from ..face.analyzer import FaceAnalyzer

    return FaceAnalyzer(pack)


def procedural_motion(pack: ModelPack) -> MotionGenerator:
    """The built-in, weight-free motion generator (needs no model file)."""
    from ..motion.procedural import ProceduralMotion

    return ProceduralMotion()


def warp_renderer(pack: ModelPack, image: np.ndarray, face: SourceFace) -> Renderer:
    """The built-in 2.5-D warp renderer, on the pack's ONNX Runtime."""
    from ..render.warp import WarpRenderer

    return WarpRenderer(image, face, pack.runtime)


BUILTIN = Profile(
    "builtin",
    MEDIAPIPE_FACE_MODELS,
    mediapipe_face,
    procedural_motion,
    warp_renderer,
    "MediaPipe face models, procedural motion, 2.5-D warp renderer",
)

_PROFILES: dict[str, Profile] = {BUILTIN.name: BUILTIN}


def register_profile(profile: Profile, replace: bool = False) -> None:
    """Make a profile known to ``open_pack`` and ``open_stages``."""
    if profile.name == BUILTIN.name or (profile.name in _PROFILES and not replace):
        raise ValueError(f"profile {profile.name!r} is already registered")
    _PROFILES[profile.name] = profile


def unregister_profile(name: str) -> None:
    """Forget a profile (tests); the built-in one stays."""
    if name != BUILTIN.name:
        _PROFILES.pop(name, None)


def profile_names() -> tuple[str, ...]:
    return tuple(sorted(_PROFILES))


def get_profile(name: str, where: str = "pack.toml") -> Profile:
    """The registered profile ``name``; ModelPackError naming ``where`` when unknown."""
    try:
        return _PROFILES[name]
    except KeyError:
        raise ModelPackError(
            f"{where} names profile '{name}', which this version does not know "
            f"(known: {', '.join(profile_names())})."
        ) from None
