"""The motion controls: what a user can ask of the motion, with units, ranges and defaults.

``MotionSettings`` is what every motion generator receives (``core.stages.MotionGenerator``)
and what ``run.json`` records under ``settings.motion``; ``CONTROLS`` describes each control
for the command line and the Blender panel, which build their flags and properties from it;
``validate`` checks a value against it with one sentence. Nothing here depends on how the
built-in generator works.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import VasaError
from .emotion import EMOTIONS

# auto: phonetic when PocketSphinx is there, acoustic for singing or without it.
LIPSYNC_MODES = ("auto", "phonetic", "acoustic")
# How much a speaker moves: head motion, gestures on stressed syllables and blink rate
# together (conversational = the defaults calibrated on real talkers).
SPEAKING_STYLES = ("calm", "conversational", "animated")


@dataclass
class MotionSettings:
    """The motion controls; see ``CONTROLS`` for units, ranges and defaults."""

    seed: int = 0
    motion_intensity: float = 1.0  # head motion scale; 0 keeps the head still
    lipsync_strength: float = 1.0  # mouth motion scale
    blink_rate_per_min: float = 22.0  # people blink more while they talk
    lipsync_mode: str = "auto"  # auto, phonetic (English phones), acoustic (any language)
    gaze_yaw: float = 0.0  # degrees, main gaze direction, > 0 to the viewer's right
    gaze_pitch: float = 0.0  # degrees, > 0 up
    head_scale: float = 1.0  # head distance: 1 = as in the photo, > 1 closer (larger)
    emotion: str = "neutral"  # neutral, happy, sad, angry, surprised
    emotion_intensity: float = 1.0  # 0 = neutral face, 1 = the emotion's full offsets
    speaking_style: str = "conversational"  # calm, conversational, animated


class Control(NamedTuple):
    """How a user interface should present one motion control."""

    label: str
    minimum: float | None
    maximum: float | None
    default: object
    unit: str
    help: str
    choices: tuple[str, ...] = ()


CONTROLS: dict[str, Control] = {
    "seed": Control(
        "Seed",
        0,
        2**31 - 1,
        0,
        "",
        "Same seed, same motion; another seed, another equally plausible take.",
    ),
    "motion_intensity": Control(
        "Motion intensity", 0.0, 2.0, 1.0, "x", "Scale of head motion; 0 keeps the head still."
    ),
    "lipsync_strength": Control("Lip-sync strength", 0.0, 2.0, 1.0, "x", "Scale of mouth motion."),
    "blink_rate_per_min": Control(
        "Blink rate",
        0.0,
        60.0,
        22.0,
        "1/min",
        "Average blinks per minute (more follow long phrases).",
    ),
    "lipsync_mode": Control(
        "Lip-sync mode",
        None,
        None,
        "auto",
        "",
        "phonetic: English phone recognition; acoustic: spectral shapes "
        "for any language or singing; auto: phonetic when available.",
        LIPSYNC_MODES,
    ),
    "gaze_yaw": Control(
        "Gaze yaw", -30.0, 30.0, 0.0, "deg", "Main gaze direction, > 0 to the viewer's right."
    ),
    "gaze_pitch": Control("Gaze pitch", -20.0, 20.0, 0.0, "deg", "Main gaze direction, > 0 up."),
    "head_scale": Control(
        "Head distance",
        0.5,
        2.0,
        1.0,
        "ratio",
        "Head size against the photo: > 1 closer, < 1 further away.",
    ),
    "emotion": Control(
        "Emotion", None, None, "neutral", "", "Expression laid over the speech.", tuple(EMOTIONS)
    ),
    "emotion_intensity": Control(
        "Emotion intensity",
        0.0,
        1.0,
        1.0,
        "x",
        "0 = neutral face, 1 = the emotion's full expression.",
    ),
    "speaking_style": Control(
        "Speaking style",
        None,
        None,
        "conversational",
        "",
        "How much the speaker moves: head motion, nods on stressed syllables and blinks "
        "together; conversational is calibrated on real talkers.",
        SPEAKING_STYLES,
    ),
}


def validate(settings: MotionSettings) -> None:
    """Raise VasaError, naming the control and its range, for any value out of range."""
    for name, control in CONTROLS.items():
        value = getattr(settings, name)
        if control.choices:
            if value not in control.choices:
                raise VasaError(
                    f"{control.label} {value!r} is unknown; use one of "
                    f"{', '.join(control.choices)}."
                )
            continue
        kinds = int if isinstance(control.default, int) else int | float
        assert control.minimum is not None and control.maximum is not None  # numeric: a range
        ok = (
            isinstance(value, kinds)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and control.minimum <= value <= control.maximum
        )
        if not ok:
            unit = f" {control.unit}" if control.unit else ""
            raise VasaError(
                f"{control.label} {value!r} is out of range; use "
                f"{_number(control.minimum)} to {_number(control.maximum)}{unit}."
            )


def _number(value: float) -> str:
    """A range end as people write it: 2147483647, not 2.14748e+09; 0.5, not 0.500000."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"
