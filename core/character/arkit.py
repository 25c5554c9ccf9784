"""Apple's 52 ARKit face blendshapes, and name matching that ignores case and separators.

Rigs spell the same shape many ways (``jawOpen``, ``JawOpen``, ``jaw_open``, ``JAW-OPEN``);
:func:`normalize` folds them all to ``jawopen`` so a character's shape keys are found by
meaning, not by spelling. The order is ARKit's (``ARFaceAnchor.BlendShapeLocation``), which is
also the order of Live Link Face's CSV columns except for the two left/right pairs noted in
``core.character.livelink``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft",
    "eyeLookDownLeft",
    "eyeLookInLeft",
    "eyeLookOutLeft",
    "eyeLookUpLeft",
    "eyeSquintLeft",
    "eyeWideLeft",
    "eyeBlinkRight",
    "eyeLookDownRight",
    "eyeLookInRight",
    "eyeLookOutRight",
    "eyeLookUpRight",
    "eyeSquintRight",
    "eyeWideRight",
    "jawForward",
    "jawLeft",
    "jawRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthLeft",
    "mouthRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthDimpleLeft",
    "mouthDimpleRight",
    "mouthStretchLeft",
    "mouthStretchRight",
    "mouthRollLower",
    "mouthRollUpper",
    "mouthShrugLower",
    "mouthShrugUpper",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthLowerDownLeft",
    "mouthLowerDownRight",
    "mouthUpperUpLeft",
    "mouthUpperUpRight",
    "browDownLeft",
    "browDownRight",
    "browInnerUp",
    "browOuterUpLeft",
    "browOuterUpRight",
    "cheekPuff",
    "cheekSquintLeft",
    "cheekSquintRight",
    "noseSneerLeft",
    "noseSneerRight",
    "tongueOut",
)
assert len(ARKIT_NAMES) == 52

_SEPARATORS = re.compile(r"[^0-9a-z]")


def normalize(name: str) -> str:
    """``JAW-OPEN``, ``jaw_open``, ``Jaw Open`` and ``jawOpen`` all give ``jawopen``."""
    return _SEPARATORS.sub("", name.lower())


_BY_KEY = {normalize(n): n for n in ARKIT_NAMES}


def arkit_name(name: str) -> str | None:
    """The ARKit spelling of ``name`` (``JawOpen`` -> ``jawOpen``), None if it is not one."""
    return _BY_KEY.get(normalize(name))


def find_name(wanted: str, names: Iterable[str]) -> str | None:
    """The first of ``names`` that spells ``wanted`` (exact spelling preferred)."""
    names = list(names)
    if wanted in names:
        return wanted
    key = normalize(wanted)
    return next((n for n in names if normalize(n) == key), None)
