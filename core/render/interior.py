"""Painting the opened mouth: teeth, tongue and the dark towards the throat, as masks.

``paint_mouth`` draws one frame's newly opened gap (``mouth.Mouth.opening``: its top edge
moves with the upper lip, its bottom edge with the jaw) into the ``MOUTH``, ``TEETH`` and
``THROAT`` channels of the shared ``overlays.Overlay``; the graph mixes the portrait's own
tones (``tones.mouth_tones``) through them. Everything is measured across the gap, in the
mouth's own axis (it turns with the head): the upper teeth hang from the top edge, the
lower teeth and the tongue rise from the bottom edge once the jaw opens wide, and the rest
darkens from the lips' dark tone at the edges into the throat behind the middle. Only the
gap's bounding box is touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from .frame import smoothstep
from .overlays import MOUTH, TEETH, THROAT, TONGUE, Overlay

# Upper teeth from the middle outwards, in half mouth widths, and how dark the gaps are;
# the lower teeth are narrower (this share of the upper ones' widths).
TOOTH_WIDTHS = (0.2, 0.15, 0.14, 0.13, 0.12)
LOWER_TOOTH_SCALE = 0.7
LOWER_HALF_WIDTH = 0.6  # the lower teeth show across this share of the mouth width
TOOTH_GAP = 0.2
# How far the teeth reach into the gap at most (shares of its height there).
UPPER_REACH = 0.45
LOWER_REACH = 0.22
# Lower teeth and tongue show only once the jaw opens past the first value (the share of a
# full opening) and are whole past the second.
LOWER_TEETH_OPEN = (0.55, 0.85)
TONGUE_OPEN = (0.5, 0.9)
TONGUE_HEIGHT = 0.4  # the tongue's back rises this share of the gap in the middle
TONGUE_HALF_WIDTH = 0.7  # half mouth widths
# The throat: where across the gap it is (0 top, 1 bottom), and how dark it gets (the
# share of the way from the interior tone to the throat tone).
THROAT_AT = 0.42
THROAT_DEPTH = 0.95
SOFT_EDGE = (0.8, 0.02)  # the lip edge's blur: at least px, else share of the mouth width
GAP_SPAN, GAP_STEPS = 1.2, 512  # the tooth gaps' table: |s| up to this, in so many steps


@dataclass(frozen=True)
class TeethSizes:
    """Pixels (this frame's head scale) of what is painted in the gap."""

    upper: float  # upper teeth below the upper lip
    lower: float  # lower teeth above the lower lip, once the jaw is wide open
    full_open: float  # the gap at jawOpen = 1, to tell how wide this frame's opening is


@dataclass
class MouthLayers:
    """One frame's painted mouth over ``box`` (x0, y0, x1, y1), each [h, w] 0..1."""

    box: tuple[int, int, int, int]
    alpha: np.ndarray  # the opening, soft at the lips
    teeth: np.ndarray  # teeth, shaded (the TEETH mask)
    throat: np.ndarray  # how far from the interior tone to the throat tone (THROAT)
    upper: np.ndarray  # coverage of the upper teeth
    lower: np.ndarray  # coverage of the lower teeth (zero until the jaw opens wide)
    tongue: np.ndarray  # coverage of the tongue (zero until the jaw opens wide)
    tongue_lit: np.ndarray  # the TONGUE mask: its coverage in its light (dark at the back)


def paint_mouth(overlay: Overlay, top: np.ndarray, bottom: np.ndarray, sizes: TeethSizes) -> None:
    """Paint the opened gap between ``top`` and ``bottom`` edges ([K, 2], left to right,
    the overlay's pixels) into ``overlay``."""
    layers = mouth_layers(overlay, top, bottom, sizes)
    if layers is None:
        return
    x0, y0, x1, y1 = layers.box
    m = overlay.masks[0, :, y0:y1, x0:x1]
    np.maximum(m[MOUTH], layers.alpha, out=m[MOUTH])
    m[TEETH] = layers.teeth
    m[THROAT] = layers.throat
    m[TONGUE] = layers.tongue_lit


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` (float32) clipped to 0..1: two OpenCV thresholds, about twice as fast as
    np.clip on these small patches (which the painting is mostly made of)."""
    _, below = cv2.threshold(x, 1.0, 1.0, cv2.THRESH_TRUNC)
    return cv2.threshold(below, 0.0, 0.0, cv2.THRESH_TOZERO)[1]


def _smooth(x: np.ndarray) -> np.ndarray:
    """``frame.smoothstep`` for float32 patches."""
    t = _unit(x)
    return t * t * (3.0 - 2.0 * t)


def mouth_layers(
    overlay: Overlay, top: np.ndarray, bottom: np.ndarray, sizes: TeethSizes
) -> MouthLayers | None:
    """The layers ``paint_mouth`` draws (in ``overlay``'s pixels, its box marked for
    clearing), or None when the gap lies outside it. All float32, on the box only."""
    outline = np.concatenate([top, bottom[::-1]])
    axis = top[-1] - top[0]
    width = float(np.linalg.norm(axis))
    blur = max(SOFT_EDGE[0], SOFT_EDGE[1] * width)
    box = overlay.box(outline, int(np.ceil(3 * blur)) + 1)
    if box is None or width < 1.0:
        return None
    x0, y0, x1, y1 = box
    shape = (y1 - y0, x1 - x0)
    alpha = overlay.fill(shape, [outline], (x0, y0), blur)
    # The mouth's own axes: s along it (-1 and 1 at the corners), v across it (down).
    ux, uy = float(axis[0] / width), float(axis[1] / width)
    cx, cy = (top[0] + top[-1]) / 2
    half = width / 2
    px = np.arange(x0, x1, dtype=np.float32) + float(0.5 - cx)
    py = np.arange(y0, y1, dtype=np.float32) + float(0.5 - cy)
    s = (px * (ux / half))[None, :] + (py * (uy / half))[:, None]
    across = (px * -uy)[None, :] + (py * ux)[:, None]

    # Per-pixel lookups along s go through tables (nearest entry, about two per pixel along
    # the mouth): np.interp per pixel costs more than the rest of the painting.
    span = (float(s.min()), float(s.max()))
    n = int(np.clip(width * (span[1] - span[0]), 16, 1024))
    at = ((s - span[0]) * ((n - 1) / max(span[1] - span[0], 1e-6)) + 0.5).astype(np.intp)

    def edge(pts: np.ndarray) -> np.ndarray:
        """The edge's distance across the mouth at each pixel's s."""
        rel = pts - [cx, cy]
        es = np.maximum.accumulate((rel[:, 0] * ux + rel[:, 1] * uy) / half)
        grid = np.linspace(*span, n)
        return np.interp(grid, es, rel[:, 1] * ux - rel[:, 0] * uy).astype(np.float32)[at]

    top_v, bottom_v = edge(top), edge(bottom)
    d_top = across - top_v  # pixels below the top edge
    d_bot = bottom_v - across  # pixels above the bottom edge
    gap = np.maximum(bottom_v - top_v, 1e-3)
    opened = float(np.max(np.linalg.norm(bottom - top, axis=1))) / max(sizes.full_open, 1e-6)
    s2 = s * s
    sa = np.abs(s)
    zero = np.zeros(shape, np.float32)
    gap_at = np.minimum(sa * ((GAP_STEPS - 1) / GAP_SPAN) + 0.5, GAP_STEPS - 1).astype(np.intp)

    # The dark: from the edges (the lips' dark tone) to the throat behind the middle.
    f = d_top / gap - THROAT_AT
    rel = f * (1.0 / (1.0 - THROAT_AT)) + np.minimum(f, 0.0) * (
        1.0 / THROAT_AT - 1.0 / (1.0 - THROAT_AT)
    )
    throat = THROAT_DEPTH * (1.0 - _smooth(np.sqrt(s2 + rel * rel)))
    # The tongue rises from the bottom edge once the jaw opens wide, in its own tone: lit
    # at its tip, in shadow towards its back and sides (the throat's dark shows through).
    grow = smoothstep((opened - TONGUE_OPEN[0]) / (TONGUE_OPEN[1] - TONGUE_OPEN[0]))
    tongue = tongue_lit = lower = zero
    if grow > 0:
        side2 = s2 * (1.0 / TONGUE_HALF_WIDTH**2)
        hump = (TONGUE_HEIGHT * grow) * gap * np.sqrt(np.maximum(1.0 - side2, 0.0))
        tongue = _unit((hump - d_bot) / 1.5 + 0.5) * (hump > 0.5)
        back = _unit(d_bot / np.maximum(hump, 1.0))  # 0 at its tip, 1 at its back
        tongue_lit = tongue * _unit(0.95 - 0.6 * back * back - 0.4 * side2)
    # Upper teeth hang from the top edge, in the upper lip's shadow at first, darker towards
    # the corners (further back) and at their translucent biting edge.
    teeth = upper = cover = zero
    if sizes.upper > 0.3:
        round_ = np.sqrt(np.maximum(1.0 - s2, 0.0))  # the arch of the teeth
        reach = np.minimum(UPPER_REACH * gap, sizes.upper) * round_
        upper = _unit((reach - d_top) / 0.7 + 0.5) * (reach > 0.3)
        depth = _unit(d_top / np.maximum(reach, 1.0))
        lit = (0.35 + 0.65 * _smooth(depth / 0.4)) * (1.0 - 0.2 * _smooth((depth - 0.6) / 0.4))
        corner = np.minimum(s2, 1.0)
        teeth = upper * lit * (1.0 - 0.65 * corner) * _gap_table(round(width), 1.0)[gap_at]
        cover = upper
    # Lower teeth stand on the bottom edge, only when the jaw is wide open.
    grow = smoothstep((opened - LOWER_TEETH_OPEN[0]) / (LOWER_TEETH_OPEN[1] - LOWER_TEETH_OPEN[0]))
    if grow > 0 and sizes.lower > 0:
        narrow2 = np.minimum(s2 * (1.0 / LOWER_HALF_WIDTH**2), 1.0)
        reach = np.minimum(LOWER_REACH * gap, sizes.lower * grow) * np.sqrt(1.0 - narrow2)
        lower = _unit((reach - d_bot) / 0.7 + 0.5) * (reach > 0.3)
        depth = _unit(d_bot / np.maximum(reach, 1.0))
        shade = (0.8 * (0.65 + 0.35 * _smooth(depth / 0.4))) * (1.0 - 0.7 * narrow2)
        gaps = _gap_table(round(width), LOWER_TOOTH_SCALE)[gap_at]
        teeth = np.maximum(teeth, lower * shade * gaps)
        cover = np.maximum(cover, lower)
    # Behind the teeth's shaded parts is the mouth's shadow, not its lit edge.
    if cover is not zero:
        throat += cover * np.maximum(0.6 - throat, 0.0)
    return MouthLayers(box, alpha, teeth, throat, upper, lower, tongue, tongue_lit)


@lru_cache(maxsize=64)
def _gap_table(width: int, scale: float) -> np.ndarray:
    """The teeth's brightness along |s| = 0..GAP_SPAN in GAP_STEPS steps (faint dark lines
    between them, the two front ones widest), for a mouth ``width`` pixels wide; made once
    per width and looked up per pixel (cheaper than computing them per pixel)."""
    edges = np.concatenate([[0.0], np.cumsum(TOOTH_WIDTHS)]) * scale
    grid = np.linspace(0.0, GAP_SPAN, GAP_STEPS)
    nearest = np.min(np.abs(grid[:, None] - edges[None, :]), axis=1) * width / 2
    table = 1.0 - TOOTH_GAP * np.exp(-((nearest / max(0.6, 0.01 * width)) ** 2))
    return table.astype(np.float32)
