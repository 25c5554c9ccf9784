"""How a talker moves, in numbers: the statistics that set generated takes against real
talking video (issue "moves like a real person talking").

``talk_statistics`` reads per-frame measurements (``capture.measure.Measurements`` or any
mapping of the same series) and a speech mask, and returns head spread and speed, lips
apart in speech, mouth opening, blinks and gaze shifts. ``compare`` puts a real and a
generated set side by side with ratios (generated / real). Each statistic is defined in
docs/capture.md; ``calibrate`` (``python -m core calibrate``) runs the whole comparison.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np

LIPS_APART = 0.02  # inner-lip gap (face widths) above which the lips count as apart
SPEED_SMOOTH_S = 0.1  # pose is averaged over this long before its speed is taken (jitter)
BLINK_CLOSURE = 0.35  # a blink: the lids below 65 % of the eye's open level ...
BLINK_MAX_S = 1.0  # ... for at most this long (longer is looking down or eyes shut)
OPEN_PERCENTILE = 90  # the eye's open level: this percentile of its opening
GAZE_STEP = 0.03  # a gaze shift: the irises move this many eye widths (about 5 degrees) ...
GAZE_WINDOW_S = 0.08  # ... within this long, away from blinks
GAZE_REFRACTORY_S = 0.2  # one shift is counted once


class Series(Protocol):
    """Per-frame measurements by name (``Measurements`` or a dict of arrays)."""

    def __getitem__(self, name: str, /) -> np.ndarray: ...


# The statistics in print order: key, label, unit.
STATISTICS = (
    ("yaw_std", "head yaw, standard deviation", "deg"),
    ("pitch_std", "head pitch, standard deviation", "deg"),
    ("roll_std", "head roll, standard deviation", "deg"),
    ("yaw_speed", "head yaw, frame-to-frame speed", "deg/s"),
    ("pitch_speed", "head pitch, frame-to-frame speed", "deg/s"),
    ("roll_speed", "head roll, frame-to-frame speed", "deg/s"),
    ("lips_apart_in_speech", "speech frames with the lips apart", "share"),
    ("mouth_mean_in_speech", "mouth opening in speech, mean", "face widths"),
    ("mouth_p90_in_speech", "mouth opening in speech, 90th percentile", "face widths"),
    ("blinks_per_min", "blinks per minute", "1/min"),
    ("blink_duration_s", "blink duration, mean", "s"),
    ("gaze_shifts_per_min", "gaze shifts per minute", "1/min"),
)


def _fill(values: np.ndarray) -> np.ndarray:
    """NaN gaps linearly interpolated (held at the ends); all-NaN stays NaN."""
    values = np.asarray(values, np.float64)
    ok = np.isfinite(values)
    if ok.all() or not ok.any():
        return values
    idx = np.arange(len(values))
    return np.interp(idx, idx[ok], values[ok])


def _smooth(values: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return values
    kernel = np.ones(width) / width
    padded = np.pad(values, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def eye_closure(opening: np.ndarray) -> np.ndarray:
    """0 (open as usual) .. 1 (shut): 1 - opening over the eye's open level."""
    opening = _fill(opening)
    level = np.nanpercentile(opening, OPEN_PERCENTILE) if np.isfinite(opening).any() else 1.0
    return np.clip(1.0 - opening / max(float(level), 1e-6), 0.0, 1.0)


def blinks(closure: np.ndarray, fps: float) -> list[tuple[int, int]]:
    """Blinks as [start, end) frames: closure above ``BLINK_CLOSURE`` for at most
    ``BLINK_MAX_S``, runs one frame apart joined."""
    shut = closure > BLINK_CLOSURE
    for a, b in runs(~shut):  # a one-frame reopening inside a blink is measurement noise
        if b - a == 1 and a > 0 and b < len(shut):
            shut[a] = True
    return [(a, b) for a, b in runs(shut) if (b - a) / fps <= BLINK_MAX_S]


def gaze_shifts(
    iris_x: np.ndarray, iris_y: np.ndarray, closure: np.ndarray, fps: float
) -> list[int]:
    """Frames where a gaze shift starts: the irises move ``GAZE_STEP`` eye widths within
    ``GAZE_WINDOW_S``, with the eyes open around it."""
    x, y = _fill(iris_x), _fill(iris_y)
    lag = max(1, round(GAZE_WINDOW_S * fps))
    if len(x) <= lag:
        return []
    step = np.hypot(x[lag:] - x[:-lag], y[lag:] - y[:-lag])
    closed = np.convolve(closure > 0.2, np.ones(2 * lag + 3), mode="same") > 0
    out: list[int] = []
    gap = max(1, round(GAZE_REFRACTORY_S * fps))
    for i in np.flatnonzero(step > GAZE_STEP):
        if closed[i] or closed[i + lag]:
            continue
        if not out or i - out[-1] > gap:
            out.append(int(i))
    return out


def talk_statistics(measurements: Series, speech: np.ndarray, fps: float) -> dict[str, float]:
    """The ``STATISTICS`` of one clip: ``measurements`` gives per-frame ``yaw``, ``pitch``,
    ``roll`` (degrees), ``mouth`` (inner-lip gap, face widths), ``eye_right``/``eye_left``
    (lid gap over eye width) and ``iris_x_*``/``iris_y_*`` (eye widths); NaN = no face.
    ``speech``: bool per frame."""
    get = measurements.__getitem__
    speech = np.asarray(speech, bool)
    n = len(speech)
    out: dict[str, float] = {}
    width = max(1, round(SPEED_SMOOTH_S * fps))
    for name in ("yaw", "pitch", "roll"):
        v = _fill(np.asarray(get(name), np.float64)[:n])
        out[f"{name}_std"] = float(np.std(v))
        out[f"{name}_speed"] = float(np.mean(np.abs(np.diff(_smooth(v, width)))) * fps)
    mouth = np.asarray(get("mouth"), np.float64)[:n]
    talking = mouth[speech & np.isfinite(mouth)]
    nan = float("nan")
    out["lips_apart_in_speech"] = float(np.mean(talking > LIPS_APART)) if talking.size else nan
    out["mouth_mean_in_speech"] = float(np.mean(talking)) if talking.size else nan
    out["mouth_p90_in_speech"] = float(np.percentile(talking, 90)) if talking.size else nan
    closure = np.maximum(
        eye_closure(np.asarray(get("eye_right"), np.float64)[:n]),
        eye_closure(np.asarray(get("eye_left"), np.float64)[:n]),
    )
    minutes = n / fps / 60.0
    found = blinks(closure, fps)
    out["blinks_per_min"] = len(found) / minutes
    out["blink_duration_s"] = float(np.mean([b - a for a, b in found]) / fps) if found else nan
    ix = (np.asarray(get("iris_x_right"))[:n] + np.asarray(get("iris_x_left"))[:n]) / 2
    iy = (np.asarray(get("iris_y_right"))[:n] + np.asarray(get("iris_y_left"))[:n]) / 2
    out["gaze_shifts_per_min"] = len(gaze_shifts(ix, iy, closure, fps)) / minutes
    return out


def compare(real: Mapping[str, float], generated: Mapping[str, float]) -> dict[str, dict]:
    """Each statistic: real, generated and their ratio (None where real is 0 or unknown)."""
    table = {}
    for key, label, unit in STATISTICS:
        r, g = real.get(key, float("nan")), generated.get(key, float("nan"))
        ok = np.isfinite(r) and np.isfinite(g) and abs(r) > 1e-12
        table[key] = {
            "label": label,
            "unit": unit,
            "real": None if not np.isfinite(r) else round(float(r), 5),
            "generated": None if not np.isfinite(g) else round(float(g), 5),
            "ratio": round(float(g / r), 3) if ok else None,
        }
    return table


def format_table(table: Mapping[str, Mapping]) -> str:
    """The comparison as aligned text lines (what ``calibrate`` prints)."""

    def num(v) -> str:
        return "-" if v is None else f"{v:.4g}"

    lines = [f"{'statistic':44s} {'real':>9s} {'generated':>10s} {'ratio':>6s}  unit"]
    for row in table.values():
        lines.append(
            f"{row['label']:44s} {num(row['real']):>9s} {num(row['generated']):>10s} "
            f"{num(row['ratio']):>6s}  {row['unit']}"
        )
    return "\n".join(lines)
