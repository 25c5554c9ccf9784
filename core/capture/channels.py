"""Measured features -> the MotionTrack channels the generator writes, each calibrated.

Every constant below is what the built-in warp renderer shows for that channel at 1 (or
the stated angle), measured by the same landmark reading on the test portraits
(docs/capture.md has the table and how to repeat it), so a captured track played back on
a portrait reproduces what was measured. Head angles stay in real degrees (a rigid fit).
Expression channels are relative to the reference face (the clip's first face): it is
what a portrait shows at channel value 0.
"""

from __future__ import annotations

import math

import numpy as np

from ..face.measure import FEATURES
from ..motion.track import STANDARD_CHANNELS, MotionTrack

# jawOpen from the inner-lip gap's and the nose-to-chin distance's growth (face widths), as
# the renderer draws jawOpen 0-0.5 and the landmark model reads it back: the median over
# five portraits (sad, art_1, people_0, happy, d10's first frame). A table, not a line: the
# model under-reads small openings and its reading levels off above 0.5 (near 0.15 face
# widths), talking's range ending there (docs/capture.md).
JAW_STEPS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)
JAW_GAP_READ = (0.0, 0.01, 0.024, 0.047, 0.068, 0.111, 0.129, 0.145)
JAW_CHIN_READ = (0.0, 0.02, 0.032, 0.048, 0.058, 0.071, 0.076, 0.084)
SEALED_GAP = 0.01  # lips count as sealed below this gap over the reference's
CLOSED_SHARE = 0.4  # a shut eye reads at this share of its open level (lid gap / width)
OPEN_PERCENTILE = 90  # an eye's open level: this percentile of its opening over the clip
MIN_YAW_SPREAD = 1.0  # degrees: below this the open level does not follow the head's yaw
WIDE_SPAN = 0.25  # eyeWide 1: the lids this much wider than the open level (share)
GAZE_REACH_X = 0.37  # iris shift (eye widths) per unit sine of gaze yaw, as rendered
GAZE_REACH_Y = 0.11  # ... per unit sine of gaze pitch (lids hide vertical moves)
GAZE_LIMIT_DEG = (30.0, 20.0)  # the gaze controls' ranges
GAZE_REFERENCE_S = 1.0  # gaze 0: the median iris position over the first second
NARROW = 0.03  # mouth narrower by this (face widths): pucker or funnel 1
ROUND_OPEN = 0.04  # ... as a funnel when the lips are this far apart, a pucker when shut
SMILE = 0.025  # corners out + up by this (face widths): smile 1
FROWN = 0.012  # corners down by this: frown 1
CORNER_JAW = 0.5  # corners drop by this share of the jaw's gap (not a frown)
PRESS = 0.3  # lips thinner by this share of their rest thickness: press 1
BROW = 0.015  # brows up or down by this (face widths): browInnerUp / browOuterUp / browDown 1


def _f(values: np.ndarray, name: str) -> np.ndarray:
    return values[:, FEATURES.index(name)]


def _unit(x: np.ndarray) -> np.ndarray:
    return np.clip(x, 0.0, 1.0)


def open_level(opening: np.ndarray, yaw: np.ndarray | None = None) -> np.ndarray:
    """Each frame's open level of one eye: ``OPEN_PERCENTILE`` of its opening, following
    the head's yaw.

    An open eye reads narrower as the head turns it away (its lid gap over width changes by
    0.5-0.7 % per degree on rendered turns: 12 degrees read as a 0.1 blink). The open level
    is a line in yaw fitted on the frames at or above the eye's median opening (blinks are a
    small share of frames and stay out), raised to the percentile of all
    frames' residuals, as the level without it is that of the openings."""
    level = float(np.percentile(opening, OPEN_PERCENTILE))
    if yaw is None or float(np.std(yaw)) < MIN_YAW_SPREAD:
        return np.full(opening.shape, max(level, 1e-6))
    upper = opening >= np.median(opening)
    slope, offset = np.polyfit(yaw[upper], opening[upper], 1)
    line = slope * yaw + offset
    return np.maximum(line + float(np.percentile(opening - line, OPEN_PERCENTILE)), 1e-6)


def eye_closure(
    opening: np.ndarray, yaw: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(blink 0..1, wide 0..1) of one eye from its opening series (and the head's yaw)."""
    level = open_level(opening, yaw)
    blink = _unit((level - opening) / (level * (1.0 - CLOSED_SHARE)))
    wide = _unit((opening / level - 1.0 - 0.1) / WIDE_SPAN)
    return blink, wide


def to_track(values: np.ndarray, fps: float) -> MotionTrack:
    """``STANDARD_CHANNELS`` from filled, smoothed features [n, len(FEATURES)]."""
    v = np.asarray(values, np.float64)
    n = v.shape[0]
    track = MotionTrack.neutral(n, fps, STANDARD_CHANNELS)
    f = lambda name: _f(v, name)  # noqa: E731
    track["head_yaw"] = f("yaw")
    track["head_pitch"] = f("pitch")
    track["head_roll"] = f("roll")
    track["head_x"] = f("x")
    track["head_y"] = f("y")
    track["head_scale"] = f("scale")

    blink_r, wide_r = eye_closure(f("eye_right"), f("yaw"))
    blink_l, wide_l = eye_closure(f("eye_left"), f("yaw"))
    track["eyeBlinkRight"], track["eyeWideRight"] = blink_r, wide_r
    track["eyeBlinkLeft"], track["eyeWideLeft"] = blink_l, wide_l

    # Gaze: both irises together, against their position over the first second; held
    # through blinks (a shut eye's iris reading is a guess).
    ix = (f("iris_x_right") + f("iris_x_left")) / 2
    iy = (f("iris_y_right") + f("iris_y_left")) / 2
    shut = np.maximum(blink_r, blink_l) > 0.3
    first = slice(0, max(1, round(GAZE_REFERENCE_S * fps)))
    open_first = ~shut[first]
    x0 = float(np.median(ix[first][open_first])) if open_first.any() else float(np.median(ix))
    y0 = float(np.median(iy[first][open_first])) if open_first.any() else float(np.median(iy))
    if shut.any() and not shut.all():
        idx = np.arange(n)
        ix = np.interp(idx, idx[~shut], ix[~shut])
        iy = np.interp(idx, idx[~shut], iy[~shut])
    yaw = np.degrees(np.arcsin(np.clip((ix - x0) / GAZE_REACH_X, -1, 1)))
    pitch = np.degrees(np.arcsin(np.clip(-(iy - y0) / GAZE_REACH_Y, -1, 1)))
    track["gaze_yaw"] = np.clip(yaw, -GAZE_LIMIT_DEG[0], GAZE_LIMIT_DEG[0])
    track["gaze_pitch"] = np.clip(pitch, -GAZE_LIMIT_DEG[1], GAZE_LIMIT_DEG[1])

    # Mouth, against the reference (first) frame: row 0 of the features.
    gap = f("mouth") - f("mouth")[0]
    jaw = np.interp(gap, JAW_GAP_READ, JAW_STEPS)
    chin = np.interp(f("chin") - f("chin")[0], JAW_CHIN_READ, JAW_STEPS)
    sealed = (gap < SEALED_GAP) & (chin > 0.05)  # jaw down behind closed lips
    close = np.where(sealed, np.minimum(chin, 0.3), 0.0)
    track["jawOpen"] = np.where(sealed, close, jaw)
    track["mouthClose"] = close
    narrow = _unit((f("mouth_width")[0] - f("mouth_width")) / NARROW)
    rounded_open = _unit(gap / ROUND_OPEN)
    track["mouthFunnel"] = narrow * rounded_open
    track["mouthPucker"] = narrow * (1.0 - rounded_open)
    for side, name in (("right", "Right"), ("left", "Left")):
        out = f(f"corner_out_{side}") - f(f"corner_out_{side}")[0]
        up = f(f"corner_up_{side}") - f(f"corner_up_{side}")[0] + CORNER_JAW * np.maximum(gap, 0)
        smile = _unit((out + up) / SMILE)
        track[f"mouthSmile{name}"] = smile
        track[f"mouthFrown{name}"] = _unit(-up / FROWN) * (smile == 0)
    thick = f("lip_upper") + f("lip_lower")
    press = _unit((thick[0] - thick) / (PRESS * max(float(thick[0]), 1e-6)))
    press = np.where(gap < SEALED_GAP, press, 0.0)
    track["mouthPressRight"] = press
    track["mouthPressLeft"] = press

    inner_r = f("brow_inner_right") - f("brow_inner_right")[0]
    inner_l = f("brow_inner_left") - f("brow_inner_left")[0]
    track["browInnerUp"] = _unit((inner_r + inner_l) / 2 / BROW)
    track["browDownRight"] = _unit(-inner_r / BROW)
    track["browDownLeft"] = _unit(-inner_l / BROW)
    track["browOuterUpRight"] = _unit((f("brow_outer_right") - f("brow_outer_right")[0]) / BROW)
    track["browOuterUpLeft"] = _unit((f("brow_outer_left") - f("brow_outer_left")[0]) / BROW)
    if not math.isfinite(float(np.sum(track.data))):
        raise ValueError("captured channels are not finite")
    return track
