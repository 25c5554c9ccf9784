"""The mouth interior's colours, taken once per take from the portrait itself.

A fixed tooth white reads as painted on, most of all on a painting: its teeth must be in
the painting's own light. ``mouth_tones`` measures the portrait in Lab: its light (the
whites of the eyes and the face's highlights, low in saturation), its lips' dark tones and
its deepest shadow, and returns the four colours the graph mixes the opened mouth from
(``graph.PALETTE``: interior, throat, teeth, tongue). ``find_photo_teeth`` tells whether the photo
already shows teeth between parted lips, where they end (the lips part there, so that
they stay whole on their lip) and their colour (so that painted teeth match them).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..face import regions as fr

# Teeth: as bright as this share of the portrait's light, never brighter than its
# highlights; their tint is the light's, moved this far towards the skin's hue and capped.
TEETH_LIGHT = 0.88
TEETH_CAST = 0.3  # share of the whites' own tint (a reddened eye is no tooth colour)
TEETH_SKIN_TINT = 0.35
TEETH_MAX_CHROMA = (10.0, 0.45)  # at most max(a, b * the skin's chroma)
# The interior near the lips: the lips' dark tones (this percentile), darkened; the throat:
# the portrait's deepest shadow (this percentile of the face) in the lips' hue. Darker than
# the lips' own shadow: a lip-toned gap reads as more lip to the landmark model (at 0.6 the
# d10/d12 takes' inner-lip gap read 5-10 % smaller than at 0.45).
LIP_DARK_PCT = 20
INTERIOR_DARKEN = 0.45
SHADOW_PCT = 1.0
THROAT_MAX = 0.3  # the throat is at most this share of the interior's lightness
# The tongue: the lips' hue, this much lighter than the inner lip (their dark tones) and
# this share of the lips' chroma (a lip-toned mound reads as a third lip); the masks darken
# it towards the throat.
TONGUE_LIGHTER = 1.45
TONGUE_CHROMA = 0.75
# A photo's pixel between the inner lips counts as a tooth when it is this much lighter than
# the lips (Lab L) and at most this share of their chroma; the photo shows teeth when this
# share of the gap does.
TOOTH_LIGHTER = 8.0
TOOTH_CHROMA = 0.7
TOOTH_SHARE = 0.25
SAMPLES = 20_000  # pixels measured per region at most


@dataclass(frozen=True)
class PhotoTeeth:
    """What the photo's own open mouth shows (``find_photo_teeth``)."""

    shown: bool
    # Per inner-lip pair (``regions.LIP_INNER_UPPER``): where between the upper (0) and the
    # lower (1) inner lip the upper teeth end; the lips part there.
    split: np.ndarray
    upper_px: float = 0.0  # visible upper teeth, pixels, in the middle of the mouth
    lower: bool = False  # lower teeth show too
    colour: np.ndarray | None = None  # RGB float, their median colour

    @classmethod
    def none(cls) -> PhotoTeeth:
        return cls(False, np.full(len(fr.LIP_INNER_UPPER), 0.5))


def to_lab(rgb: np.ndarray) -> np.ndarray:
    """RGB [..., 3] (0..255) -> Lab [..., 3] (L 0..100)."""
    flat = np.asarray(rgb, np.float32).reshape(1, -1, 3) / 255.0
    return cv2.cvtColor(flat, cv2.COLOR_RGB2Lab).reshape(np.shape(rgb))


def from_lab(lab: np.ndarray) -> np.ndarray:
    """Lab [..., 3] -> RGB [..., 3] (0..255, clipped)."""
    flat = np.asarray(lab, np.float32).reshape(1, -1, 3)
    rgb = cv2.cvtColor(flat, cv2.COLOR_Lab2RGB).reshape(np.shape(lab))
    return np.clip(rgb * 255.0, 0.0, 255.0)


def polygon_pixels(
    image: np.ndarray, polys: list[np.ndarray], holes: list[np.ndarray] | None = None
) -> np.ndarray:
    """RGB float [N, 3] of the pixels inside ``polys`` and outside ``holes`` (image pixels),
    at most ``SAMPLES`` of them, evenly strided."""
    h, w = image.shape[:2]
    pts = np.concatenate(polys)
    x0, y0 = np.maximum(np.floor(pts.min(0)).astype(int), 0)
    x1, y1 = np.minimum(np.ceil(pts.max(0)).astype(int) + 1, [w, h])
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 3), np.float32)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.fillPoly(mask, [np.round(p - [x0, y0]).astype(np.int32) for p in polys], 1)  # type: ignore[call-overload]
    if holes:
        cv2.fillPoly(mask, [np.round(p - [x0, y0]).astype(np.int32) for p in holes], 0)  # type: ignore[call-overload]
    pixels = image[y0:y1, x0:x1][mask > 0]
    step = max(1, len(pixels) // SAMPLES)
    return pixels[::step].astype(np.float32)


def _ring(lm: np.ndarray, upper: tuple[int, ...], lower: tuple[int, ...]) -> np.ndarray:
    """Closed outline from two left-to-right contours that share their ends."""
    return np.concatenate([lm[list(upper)], lm[list(lower)][::-1]])


def find_photo_teeth(image: np.ndarray, landmarks: np.ndarray) -> PhotoTeeth:
    """Whether the photo shows teeth between its inner lips, and where they end.

    Teeth are lighter and less saturated than the lips around them. Along each inner-lip
    pair the upper teeth run down from the upper lip; the lips part where that run ends, so
    the photo's upper teeth stay with the upper lip and only what lies below goes with the
    jaw.
    """
    lm = landmarks[:, :2].astype(np.float64)
    inner = _ring(lm, fr.LIP_INNER_UPPER, fr.LIP_INNER_LOWER)
    outer = _ring(lm, fr.LIP_OUTER_UPPER, fr.LIP_OUTER_LOWER)
    lips = to_lab(polygon_pixels(image, [outer], [inner]))
    gap = polygon_pixels(image, [inner])
    none = PhotoTeeth.none()
    if len(lips) < 8 or len(gap) < 6:
        return none
    lip_l = float(np.median(lips[:, 0]))
    lip_c = float(np.median(np.hypot(lips[:, 1], lips[:, 2])))

    def is_tooth(lab: np.ndarray) -> np.ndarray:
        chroma = np.hypot(lab[..., 1], lab[..., 2])
        return (lab[..., 0] > lip_l + TOOTH_LIGHTER) & (chroma < TOOTH_CHROMA * max(lip_c, 4.0))

    gap_lab = to_lab(gap)
    teeth = is_tooth(gap_lab)
    if teeth.mean() < TOOTH_SHARE:
        return none
    # Along each inner-lip pair, from the upper lip down.
    up, lo = lm[list(fr.LIP_INNER_UPPER)], lm[list(fr.LIP_INNER_LOWER)]
    n = 16
    t = (np.arange(n) + 0.5) / n
    along = up[:, None, :] + t[None, :, None] * (lo - up)[:, None, :]
    h, w = image.shape[:2]
    xs = np.clip(np.round(along[..., 0]).astype(int), 0, w - 1)
    ys = np.clip(np.round(along[..., 1]).astype(int), 0, h - 1)
    flags = is_tooth(to_lab(image[ys, xs].astype(np.float32)))  # [pairs, n]
    split = np.full(len(up), 0.5)
    lower = False
    for i, row in enumerate(flags):
        hits = np.flatnonzero(row)
        if len(hits) == 0 or hits[0] > n // 3:  # no upper teeth on this pair
            continue
        end = hits[0]
        while end + 1 < n and row[end + 1]:
            end += 1
        split[i] = min((end + 1) / n, 0.95)
        lower |= bool(row[end + 1 :].sum() >= 2) and 2 < i < len(up) - 3
    # Pairs where no run was found (the landmarks sit on the teeth there) part where the
    # others do (their median), so that the teeth's edge stays whole.
    found = split != 0.5
    if not found.any():
        return none
    split = np.where(found, split, np.median(split[found]))
    length = np.linalg.norm(lo - up, axis=1)
    mid = len(up) // 2
    upper_px = float(np.median(split[found]) * length[mid])
    colour = from_lab(np.median(gap_lab[teeth], 0))
    return PhotoTeeth(True, split, upper_px, lower, colour)


def mouth_tones(
    image: np.ndarray, landmarks: np.ndarray, teeth: PhotoTeeth
) -> dict[str, np.ndarray]:
    """RGB float colours of the opened mouth (``interior``, ``throat``, ``teeth``, ``tongue``), from
    this portrait's own light and shadow; a photo that shows teeth lends its own."""
    lm = landmarks[:, :2].astype(np.float64)
    inner = _ring(lm, fr.LIP_INNER_UPPER, fr.LIP_INNER_LOWER)
    outer = _ring(lm, fr.LIP_OUTER_UPPER, fr.LIP_OUTER_LOWER)
    face = to_lab(polygon_pixels(image, [lm[list(fr.FACE_OVAL)]]))
    lips = to_lab(polygon_pixels(image, [outer], [inner]))
    if len(lips) < 8:  # a tiny face: the lip landmarks' own pixels
        lips = to_lab(_at(image, lm[list(fr.LOWER_LIP)]))
    if len(face) < 8:
        face = to_lab(_at(image, lm))
    # The light: the whites of the eyes and the face's highlights, least saturated first.
    eyes = [_ring(lm, upper, lower) for upper, lower, _ in fr.EYES]
    whites = to_lab(polygon_pixels(image, eyes))
    if len(whites) < 4:
        whites = face
    chroma = np.hypot(whites[:, 1], whites[:, 2])
    sclera = whites[np.argsort(whites[:, 0] - 1.5 * chroma)[-max(2, len(whites) // 4) :]]
    highlight = float(np.percentile(face[:, 0], 99))
    light = max(float(np.median(sclera[:, 0])), float(np.percentile(face[:, 0], 97)))
    skin_ab = np.median(face[:, 1:], 0)
    lip_ab = np.median(lips[:, 1:], 0)
    if teeth.shown and teeth.colour is not None:
        teeth_lab = to_lab(teeth.colour)
    else:
        # The light's own cast (the sclera's tint), moved towards the skin's hue.
        ab = TEETH_CAST * np.median(sclera[:, 1:], 0) + TEETH_SKIN_TINT * skin_ab
        cap = max(TEETH_MAX_CHROMA[0], TEETH_MAX_CHROMA[1] * float(np.hypot(*skin_ab)))
        ab *= min(1.0, cap / max(float(np.hypot(*ab)), 1e-6))
        lum = min(TEETH_LIGHT * light, highlight)
        teeth_lab = np.array([lum, *ab])
    # Inside: the lips' own dark tones, darker; the throat: the portrait's deepest shadow.
    lip_dark = float(np.percentile(lips[:, 0], LIP_DARK_PCT))
    interior = np.array([INTERIOR_DARKEN * lip_dark, *(0.85 * lip_ab)])
    shadow = float(np.percentile(face[:, 0], SHADOW_PCT))
    throat_l = float(np.clip(0.5 * shadow, 2.0, THROAT_MAX * interior[0]))
    throat = np.array([throat_l, *(0.35 * lip_ab)])
    if teeth.shown:
        # Below a photo's own upper teeth the gap is the mouth's shadow from its first
        # pixel: the lips' dark tone there reads as more lip to the landmark model, which
        # then sees the mouth hardly opening (astronaut: sweep correlation 0.87 -> 0.98).
        interior = throat
    tongue_l = min(TONGUE_LIGHTER * lip_dark, float(teeth_lab[0]))
    tongue = np.array([tongue_l, *(TONGUE_CHROMA * lip_ab)])
    return {
        "interior": from_lab(interior),
        "throat": from_lab(throat),
        "teeth": from_lab(teeth_lab),
        "tongue": from_lab(tongue),
    }


def _at(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """RGB float [N, 3] at [N, 2] pixel positions (nearest pixel)."""
    h, w = image.shape[:2]
    xs = np.clip(points[:, 0].astype(int), 0, w - 1)
    ys = np.clip(points[:, 1].astype(int), 0, h - 1)
    return image[ys, xs].astype(np.float32)
