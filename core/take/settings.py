"""A take's settings: the motion controls (held, not copied) plus how frames are made.

``Settings`` is what generate, re-render, the command line and the Blender panel share, and
what ``run.json`` records under ``settings``. Choices come from the engine's own tables
(``FRAME_FORMATS``, ``OUTPUTS``, the motion ``CONTROLS``), so a new format or control shows
up everywhere at once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import VasaError
from ..motion.settings import MotionSettings, validate
from .frames import FRAME_FORMATS

# full frames; "crop512" (VASA-1's 512x512 face crop) instead; or "both" (crops beside them).
OUTPUTS = ("full", "crop512", "both")
MAX_FPS = 240.0
MAX_THREADS = 256  # ONNX Runtime threads; 100000 once hung a machine


@dataclass
class Settings:
    """Everything that shapes a take; recorded in ``run.json``."""

    fps: float = 25.0
    motion: MotionSettings = field(default_factory=MotionSettings)
    png_compression: int = 1
    pack: str | None = None  # model pack folder; None = the built-in pack
    provider: str = "auto"  # see runtime.sessions.PROVIDERS (checked by the Runtime)
    threads: int = 0
    overwrite: bool = False
    frame_format: str = "png"  # see take.frames.FRAME_FORMATS
    output: str = "full"  # see OUTPUTS
    # Content Credentials (a signed C2PA manifest) in every PNG frame, as it is written, and
    # on the take's --video MP4; see core/marks (frame_signing, frame_credentials).
    credentials: bool = True
    # A visible "AI-generated" label in a corner away from the face; see core/marks/label.py.
    label: bool = False
    # An invisible watermark (the take's identity) in every frame's face; core/marks.
    watermark: bool = True

    @property
    def seed(self) -> int:
        return self.motion.seed

    def validate(self) -> None:
        """VasaError with one sentence for the first setting out of range."""
        if not 0 < self.fps <= MAX_FPS:
            raise VasaError(
                f"Frame rate {self.fps:g} is out of range; use a rate above 0 and at most "
                f"{MAX_FPS:g} fps."
            )
        if not 0 <= self.threads <= MAX_THREADS:
            raise VasaError(
                f"CPU threads {self.threads} is out of range; use 0 (chosen from the cores) to "
                f"{MAX_THREADS}."
            )
        validate(self.motion)
        _check_choice("Frame format", self.frame_format, FRAME_FORMATS)
        _check_choice("Output", self.output, OUTPUTS)
        if not 0 <= self.png_compression <= 9:
            raise VasaError(f"PNG compression {self.png_compression} is out of range; use 0 to 9.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> Settings:
        """Settings as ``to_dict`` wrote them; also the flat form of takes made before the
        motion controls were grouped (their keys sit beside the others). Unknown keys are
        ignored, missing ones take their defaults."""
        values = dict(values)
        motion_names = {f.name for f in fields(MotionSettings)}
        motion = dict(values.pop("motion", None) or {})
        for name in motion_names & set(values):
            motion.setdefault(name, values.pop(name))
        own = {f.name for f in fields(cls)} - {"motion"}
        return cls(
            motion=MotionSettings(**{k: v for k, v in motion.items() if k in motion_names}),
            **{k: v for k, v in values.items() if k in own},
        )


def _check_choice(label: str, value: str, choices: tuple[str, ...] | dict) -> None:
    if value not in choices:
        raise VasaError(f"{label} {value!r} is not known; use one of {', '.join(choices)}.")
