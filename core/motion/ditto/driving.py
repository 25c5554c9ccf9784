"""Ditto's sampled motion rows -> our MotionTrack channels.

How Ditto drives a photo with them (``core/atomic_components/motion_stitch.py``, image
source, ``relative_d`` on): each row is taken relative to the first generated row ``d0`` and
added to the photo's own (``x_s + (row - d0)``, pose bins included, before the softmax);
the photo keeps its scale; the lip keypoints (6, 12, 14, 17, 19, 20) take the generated
expression and every other keypoint the photo's; the eyes get a blink offset from a fixed
table in Ditto's config (which we cannot read: it is a pickle) and a gaze shift that
follows the head (``_fix_gaze``: 0.26 of the yaw and 0.28 of the pitch change, on keypoints
11 and 15); then LivePortrait's Eqn. 2 and the stitching network.

We write the result as editable channels: ``head_yaw/pitch/roll`` (degrees, the change from
the photo, in our signs: ``keypoints.YAW_SIGN`` etc.), ``head_x/head_y`` (face widths),
``head_scale``, and one ``lp_exp_KK_A`` channel per driven expression coordinate (the
offset from the photo's ``exp``). The LivePortrait renderer rebuilds exactly Ditto's driving
keypoints from them. Our controls act here: motion intensity scales the head's change,
lip-sync strength the lips' offsets; blinks come from our blink planner through the
expression table's eyelid rows (in place of Ditto's blink table), gaze from the settings
through its gaze rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...render.liveportrait.expression import expression_offsets, lp_channel
from ...render.liveportrait.keypoints import N_KP, PITCH_SIGN, ROLL_SIGN, YAW_SIGN, headpose_degrees
from .source import PARTS, DittoSource

LIPS = (6, 12, 14, 17, 19, 20)
EYES = (11, 13, 15, 16, 18)
DRIVEN = tuple(sorted(LIPS + EYES))
LP_CHANNELS = tuple(lp_channel(i, a) for i in DRIVEN for a in range(3))
GAZE_FOLLOW = (0.26, 0.28)  # Ditto's _fix_gaze x_ratio (yaw), y_ratio (pitch)


@dataclass(frozen=True)
class Shaping:
    """Our controls as they act on Ditto's motion."""

    head: float = 1.0  # scale of the head's change from the photo
    lips: float = 1.0  # scale of the lips' expression offsets
    head_scale: float = 1.0
    gaze_yaw: float = 0.0  # degrees, our sign
    gaze_pitch: float = 0.0


def _degrees(rows: np.ndarray, part: str, source_row: np.ndarray, d0: np.ndarray) -> np.ndarray:
    """[n] LP degrees of ``x_s + (row - d0)`` for one pose part (Ditto adds bins)."""
    sl = PARTS[part]
    return headpose_degrees(source_row[sl] + (rows[:, sl] - d0[sl]))


def gaze_follow(d_yaw: np.ndarray, d_pitch: np.ndarray) -> np.ndarray:
    """[n, 21, 3] Ditto's ``_fix_gaze`` exp offsets for LP-degree pose changes."""
    dx, dy = d_yaw * GAZE_FOLLOW[0], d_pitch * GAZE_FOLLOW[1]
    out = np.zeros((len(dx), N_KP, 3))
    out[:, 11, 0] = np.where(dx > 0, 0.0007, 0.001) * dx
    out[:, 15, 0] = np.where(dx > 0, 0.001, 0.0007) * dx
    out[:, 11, 1] = -0.001 * dy
    out[:, 15, 1] = -0.001 * dy
    return out


def track_channels(
    rows: np.ndarray,
    source: DittoSource,
    shaping: Shaping,
    blink: np.ndarray,
) -> dict[str, np.ndarray]:
    """Channel curves [n] for ``rows`` [n, 265] (25 fps); ``blink`` [n] is 0..1 lid closure."""
    n = len(rows)
    if n == 0:
        return {name: np.zeros(0) for name in ("head_yaw", *LP_CHANNELS)}
    rows = np.asarray(rows, np.float64)
    src = source.row.astype(np.float64)
    d0 = rows[0]
    s = source.motion
    d_pitch = shaping.head * (_degrees(rows, "pitch", src, d0) - s.pitch)
    d_yaw = shaping.head * (_degrees(rows, "yaw", src, d0) - s.yaw)
    d_roll = shaping.head * (_degrees(rows, "roll", src, d0) - s.roll)
    d_t = shaping.head * (rows[:, PARTS["t"]] - d0[PARTS["t"]])
    per_fw = 2.0 * source.crop.face_width / 512.0  # keypoint units per face width
    out = {
        "head_yaw": YAW_SIGN * d_yaw,
        "head_pitch": PITCH_SIGN * d_pitch,
        "head_roll": ROLL_SIGN * d_roll,
        "head_x": d_t[:, 0] / per_fw,
        "head_y": d_t[:, 1] / per_fw,
        "head_scale": np.full(n, shaping.head_scale),
    }
    exp = np.zeros((n, N_KP, 3))
    generated = (rows[:, PARTS["exp"]] - d0[PARTS["exp"]]).reshape(n, N_KP, 3)
    lips = list(LIPS)
    exp[:, lips] = shaping.lips * generated[:, lips]
    still = {"gaze_yaw": shaping.gaze_yaw, "gaze_pitch": shaping.gaze_pitch}
    exp += expression_offsets(still)[None]
    lids = expression_offsets({"eyeBlinkLeft": 1.0, "eyeBlinkRight": 1.0})
    exp += np.asarray(blink, np.float64)[:, None, None] * lids[None]
    exp += gaze_follow(d_yaw, d_pitch)
    for i in DRIVEN:
        for a in range(3):
            out[lp_channel(i, a)] = exp[:, i, a]
    return out
