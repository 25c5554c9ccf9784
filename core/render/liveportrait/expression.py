"""Our expression channels as offsets of LivePortrait's ``exp`` keypoint tensor.

Each entry is (keypoint, axis, offset at channel value 1) on the [21, 3] ``exp`` tensor
(axis 0 = x right, 1 = y down, 2 = z), with separate rows for negative values where the
source behaves differently on each side. The keypoints and directions are LivePortrait's
own, from its image-retargeting sliders (LP ``src/gradio_pipeline.py`` ``update_delta_new_*``;
slider ranges ``app.py``); magnitudes are those per-unit values times a slider setting we
chose (usually the slider's end), or FaceFusion's face-editor values
(``face_editor/core.py``) where LP has no slider. None is calibrated on real weights yet:
``docs/packs.md`` lists each row's source and what is to be measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .keypoints import N_KP

Rows = tuple[tuple[int, int, float], ...]
X, Y, Z = 0, 1, 2


def _scaled(rows: Rows, k: float) -> Rows:
    return tuple((i, a, v * k) for i, a, v in rows)


# LP's slider rows, per slider unit.
LP_LIP_OPEN: Rows = ((19, Y, 0.001), (19, Z, 0.0001), (17, Y, -0.0001))  # lip close<->open
LP_PURSING: Rows = ((14, Y, 0.001), (3, Y, -0.0005), (7, Y, -0.0005), (17, Z, -0.0005))
LP_SMILE: Rows = (
    (20, Y, -0.01),
    (14, Y, -0.02),
    (17, Y, 0.0065),
    (17, Z, 0.003),
    (13, Y, -0.00275),
    (16, Y, -0.00275),
    (3, Y, -0.0035),
    (7, Y, -0.0035),
)
LP_EYEBROW_UP: Rows = ((1, Y, 0.001), (2, Y, -0.001))
LP_EYEBROW_DOWN: Rows = ((1, X, -0.001), (2, X, 0.001), (1, Y, 0.0003), (2, Y, -0.0003))
FF_POUT: Rows = ((19, Y, -0.022), (19, Z, 0.025), (20, Z, -0.002))  # FaceFusion, slider +1


@dataclass(frozen=True)
class Entry:
    """Offsets at +1 (``positive``) and at -1 (``negative``, if the source differs)."""

    positive: Rows
    negative: Rows | None = None
    source: str = ""


def _eye(upper: int, lower: int, k: float) -> Rows:
    """LP's wink rows for one eye's lids (wink moves 11 = upper, 13 = lower; 15/16 are the
    other eye's, moved with 11/13 by LP's gaze). Which eye is the subject's left is read from
    the gaze asymmetry (15 moves more for a look to +x): to be checked on real weights."""
    return ((upper, Y, 0.001 * k), (lower, Y, -0.0003 * k))


TABLE: dict[str, Entry] = {
    "jawOpen": Entry(_scaled(LP_LIP_OPEN, 120.0), source="LP lip close<->open at 120 (its max)"),
    "mouthClose": Entry(
        _scaled(LP_LIP_OPEN, -120.0), source="minus jawOpen's row: lip gap = jawOpen - mouthClose"
    ),
    "mouthPressLeft": Entry(
        _scaled(LP_LIP_OPEN, -15.0), source="LP lip close<->open at -30, half per side"
    ),
    "mouthPressRight": Entry(
        _scaled(LP_LIP_OPEN, -15.0), source="LP lip close<->open at -30, half per side"
    ),
    "mouthFunnel": Entry(_scaled(LP_PURSING, 15.0), source="LP pursing at 15 (its max)"),
    "mouthPucker": Entry(
        FF_POUT, source="FaceFusion mouth pout at +1 (LP's pouting moves kp 19 x only)"
    ),
    "mouthSmileLeft": Entry(_scaled(LP_SMILE, 0.5), source="LP smile at 1.0, half per side"),
    "mouthSmileRight": Entry(_scaled(LP_SMILE, 0.5), source="LP smile at 1.0, half per side"),
    "mouthFrownLeft": Entry(
        _scaled(LP_SMILE, -0.15), source="LP smile at -0.3 (its min), half per side"
    ),
    "mouthFrownRight": Entry(
        _scaled(LP_SMILE, -0.15), source="LP smile at -0.3 (its min), half per side"
    ),
    "eyeBlinkRight": Entry(_eye(11, 13, 39.0), source="LP wink at 39 (its max), lids only"),
    "eyeBlinkLeft": Entry(_eye(15, 16, 39.0), source="LP wink's rows on the other eye's keypoints"),
    "eyeWideRight": Entry(
        _eye(11, 13, -8.0), source="LP wink at -8 (chosen: a fifth of a blink, opening)"
    ),
    "eyeWideLeft": Entry(_eye(15, 16, -8.0), source="as eyeWideRight, other eye"),
    "browInnerUp": Entry(_scaled(LP_EYEBROW_UP, 15.0), source="LP eyebrow at +15 (half its max)"),
    "browOuterUpLeft": Entry(
        _scaled(LP_EYEBROW_UP, 7.5), source="LP eyebrow at +15, half per side"
    ),
    "browOuterUpRight": Entry(
        _scaled(LP_EYEBROW_UP, 7.5), source="LP eyebrow at +15, half per side"
    ),
    "browDownLeft": Entry(
        _scaled(LP_EYEBROW_DOWN, -15.0), source="LP eyebrow at -30 (its min), half per side"
    ),
    "browDownRight": Entry(
        _scaled(LP_EYEBROW_DOWN, -15.0), source="LP eyebrow at -30 (its min), half per side"
    ),
    # Degrees: LP's eyeball sliders (+-30 horizontal, +-63 vertical) taken as degrees.
    "gaze_yaw": Entry(
        ((11, X, 0.0007), (15, X, 0.001)),
        ((11, X, -0.001), (15, X, -0.0007)),
        source="LP eye gaze (horizontal) per unit, one unit per degree",
    ),
    "gaze_pitch": Entry(
        ((11, Y, -0.0005), (13, Y, -0.00015), (15, Y, -0.0005), (16, Y, -0.00015)),
        source="LP eye gaze (vertical) per unit, with its lid term (blink = -y/2); 1 unit/degree",
    ),
}
UNMAPPED = ("mouthRollLower",)  # no LP or FaceFusion row moves the lower lip inwards


def _matrix(rows: Rows) -> np.ndarray:
    out = np.zeros((N_KP, 3))
    for i, axis, value in rows:
        out[i, axis] += value
    return out


# Precomputed [21, 3] per entry and side.
_POS = {name: _matrix(e.positive) for name, e in TABLE.items()}
_NEG = {name: _matrix(e.negative) for name, e in TABLE.items() if e.negative is not None}


def expression_offsets(channels: Mapping[str, float]) -> np.ndarray:
    """[21, 3] ``exp`` offset for one frame: the sum of each channel's row times its value
    (rows for negative values where the table has them); missing channels count 0."""
    out = np.zeros((N_KP, 3))
    for name, pos in _POS.items():
        v = float(channels.get(name, 0.0))
        if v == 0.0:
            continue
        out += (-v) * _NEG[name] if v < 0 and name in _NEG else v * pos
    return out


# -- lp_ channels: the expression as raw keypoint offsets ------------------------------------
# A neural motion generator (Ditto) writes LivePortrait's expression itself: one channel per
# keypoint coordinate, ``lp_exp_KK_A`` (KK the keypoint 00..20, A the axis x, y or z), the
# offset from the photo's own ``exp`` in keypoint units. When a frame has any of them, they
# are its expression and the table above is not used.
LP_PREFIX = "lp_exp_"
AXES = "xyz"


def lp_channel(keypoint: int, axis: int) -> str:
    """The channel name of one ``exp`` coordinate, e.g. ``lp_exp_19_y``."""
    return f"{LP_PREFIX}{keypoint:02d}_{AXES[axis]}"


LP_CHANNELS = {lp_channel(i, a): (i, a) for i in range(N_KP) for a in range(3)}


def has_lp_channels(channels: Mapping[str, float] | tuple[str, ...]) -> bool:
    return any(name in LP_CHANNELS for name in channels)


def lp_offsets(channels: Mapping[str, float]) -> np.ndarray:
    """[21, 3] ``exp`` offset from a frame's ``lp_exp_*`` channels (missing ones 0)."""
    out = np.zeros((N_KP, 3))
    for name, value in channels.items():
        where = LP_CHANNELS.get(name)
        if where is not None:
            out[where] = float(value)
    return out


def frame_offsets(channels: Mapping[str, float]) -> np.ndarray:
    """A frame's ``exp`` offset: its ``lp_exp_*`` channels when it has any, else the table's
    rows for its expression channels."""
    return lp_offsets(channels) if has_lp_channels(channels) else expression_offsets(channels)
