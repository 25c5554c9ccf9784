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

import numpy as np

from .frame import smoothstep
from .overlays import MOUTH, TEETH, THROAT, Overlay

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
LOWER_TEETH_OPEN = (0.4, 0.75)
TONGUE_OPEN = (0.35, 0.8)
TONGUE_HEIGHT = 0.5  # the tongue's back rises this share of the gap in the middle
TONGUE_HALF_WIDTH = 0.7  # half mouth widths
# The throat: where across the gap it is (0 top, 1 bottom), and how dark it gets (the
# share of the way from the interior tone to the throat tone).
THROAT_AT = 0.42
THROAT_DEPTH = 0.95
SOFT_EDGE = (0.8, 0.015)  # the lip edge's blur: at least px, else share of the mouth width


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


def paint_mouth(overlay: Overlay, top: np.ndarray, bottom: np.ndarray, sizes: TeethSizes) -> None:
    """Paint the opened gap between ``top`` and ``bottom`` edges ([K, 2], left to right,
    the overlay's pixels) into ``overlay``."""
    layers = mouth_layers(overlay, top, bottom, sizes)
    if layers is None:
        return
    x0, y0, x1, y1 = layers.box
    m = overlay.masks[0]
    m[MOUTH, y0:y1, x0:x1] = np.maximum(m[MOUTH, y0:y1, x0:x1], layers.alpha)
    m[TEETH, y0:y1, x0:x1] = layers.teeth
    m[THROAT, y0:y1, x0:x1] = layers.throat


def mouth_layers(
    overlay: Overlay, top: np.ndarray, bottom: np.ndarray, sizes: TeethSizes
) -> MouthLayers | None:
    """The layers ``paint_mouth`` draws (in ``overlay``'s pixels, its box marked for
    clearing), or None when the gap lies outside it."""
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
    u = axis / width
    v = np.array([-u[1], u[0]])
    centre = (top[0] + top[-1]) / 2
    half = width / 2

    def frame(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rel = pts - centre
        return (rel @ u) / half, rel @ v

    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32) + 0.5
    s, across = frame(np.stack([xs, ys], -1))
    ts, tv = frame(top)
    bs, bv = frame(bottom)
    top_v = np.interp(s, np.maximum.accumulate(ts), tv)
    bottom_v = np.interp(s, np.maximum.accumulate(bs), bv)
    d_top = across - top_v  # pixels below the top edge
    d_bot = bottom_v - across  # pixels above the bottom edge
    gap = np.maximum(bottom_v - top_v, 1e-3)
    opened = float(np.max(np.linalg.norm(bottom - top, axis=1))) / max(sizes.full_open, 1e-6)
    sa = np.abs(s)
    round_ = np.sqrt(np.clip(1.0 - s**2, 0.0, 1.0))  # the arch of the teeth

    # The dark: from the edges (the lips' dark tone) to the throat behind the middle.
    f = d_top / gap
    rel = (f - THROAT_AT) / np.where(f < THROAT_AT, THROAT_AT, 1.0 - THROAT_AT)
    throat = THROAT_DEPTH * (1.0 - smoothstep(np.sqrt(s**2 + rel**2)))
    # The tongue rises from the bottom edge once the jaw opens wide: lit at its tip, in
    # shadow towards its back and sides.
    grow = smoothstep((opened - TONGUE_OPEN[0]) / (TONGUE_OPEN[1] - TONGUE_OPEN[0]))
    tongue = lower = np.zeros(shape, np.float32)
    if grow > 0:
        side = s / TONGUE_HALF_WIDTH
        hump = TONGUE_HEIGHT * gap * grow * np.sqrt(np.clip(1.0 - side**2, 0.0, 1.0))
        tongue = np.clip((hump - d_bot) / 1.5 + 0.5, 0.0, 1.0) * (hump > 0.5)
        shade = np.clip(0.15 + 0.45 * d_bot / np.maximum(hump, 1.0) + 0.3 * side**2, 0.0, 0.9)
        throat += tongue * (shade - throat)
    # Upper teeth hang from the top edge, in the upper lip's shadow at first, darker towards
    # the corners (further back) and at their translucent biting edge.
    reach = np.minimum(sizes.upper, UPPER_REACH * gap) * round_
    upper = np.clip((reach - d_top) / 0.7 + 0.5, 0.0, 1.0) * (reach > 0.3)
    depth = np.clip(d_top / np.maximum(reach, 1.0), 0.0, 1.0)
    lit = (0.35 + 0.65 * smoothstep(depth / 0.4)) * (1.0 - 0.2 * smoothstep((depth - 0.6) / 0.4))
    teeth = upper * lit * (1.0 - 0.65 * np.clip(sa, 0, 1) ** 2) * _gaps(sa, width, 1.0)
    cover = upper
    # Lower teeth stand on the bottom edge, only when the jaw is wide open.
    grow = smoothstep((opened - LOWER_TEETH_OPEN[0]) / (LOWER_TEETH_OPEN[1] - LOWER_TEETH_OPEN[0]))
    if grow > 0 and sizes.lower > 0:
        narrow = np.sqrt(np.clip(1.0 - (s / LOWER_HALF_WIDTH) ** 2, 0.0, 1.0))
        reach = np.minimum(sizes.lower * grow, LOWER_REACH * gap) * narrow
        lower = np.clip((reach - d_bot) / 0.7 + 0.5, 0.0, 1.0) * (reach > 0.3)
        depth = np.clip(d_bot / np.maximum(reach, 1.0), 0.0, 1.0)
        lit = 0.8 * (0.65 + 0.35 * smoothstep(depth / 0.4))
        shade = lit * (1.0 - 0.7 * np.clip(sa / LOWER_HALF_WIDTH, 0, 1) ** 2)
        teeth = np.maximum(teeth, lower * shade * _gaps(sa, width, LOWER_TOOTH_SCALE))
        cover = np.maximum(cover, lower)
    # Behind the teeth's shaded parts is the mouth's shadow, not its lit edge.
    throat += cover * (0.6 - throat) * (throat < 0.6)
    return MouthLayers(box, alpha, teeth, throat, upper, lower, tongue)


def _gaps(sa: np.ndarray, width: float, scale: float) -> np.ndarray:
    """Faint dark lines between the teeth (the two front ones widest) at |s| = ``sa``,
    looked up in a table along the mouth (cheaper than per pixel)."""
    edges = np.concatenate([[0.0], np.cumsum(TOOTH_WIDTHS)]) * scale
    grid = np.linspace(0.0, 1.2, max(64, int(width * 1.2)), dtype=np.float32)
    nearest = np.min(np.abs(grid[:, None] - edges[None, :]), axis=1) * width / 2
    table = 1.0 - TOOTH_GAP * np.exp(-((nearest / max(0.6, 0.01 * width)) ** 2))
    return np.interp(sa, grid, table).astype(np.float32)
