"""Everything about the mouth: where the jaw and lips go, and how the opened mouth is drawn.

A warp moves the photo's pixels; an opening jaw needs a step between the lips that a smooth
spline cannot draw, and an inside the photo never showed. ``Mouth`` holds the mouth's
geometry in the upright face frame and answers, per frame: how much of the jaw's drop each
point follows (``jaw_share``: a step between the inner lips, the field the warp adds; and
``jaw_weights`` for the landmarks), where the lips go (``move``: jaw, pucker, funnel,
smile and frown with the cheeks, mouthClose, mouthPress, mouthRollLower), and which gap is
newly opened (``opening``) and how much of the teeth to paint in it (``teeth``);
``interior.paint_mouth`` paints that gap. A photo that shows teeth (``tones.PhotoTeeth``)
parts its lips where its upper teeth end, so that they stay with the upper lip.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..face import regions as fr
from .frame import FaceFrame, smoothstep
from .head import HeadPose
from .interior import TeethSizes
from .tones import PhotoTeeth

# Jaw: the chin and lower lip drop this share of the face height at jawOpen = 1, the upper
# lip rises a little; mouthPress thins each lip by PRESS_THIN face heights. In between the
# drop follows ``jaw_response`` (1 - (1 - jawOpen)^JAW_CURVE): speech's openings (jawOpen
# 0.1-0.4, as ARKit captures of talkers and our lip sync have them) open as wide as real
# talkers' lips part (inner-lip gap p90 0.15-0.17 face widths on d10/d12, issue 11), while
# jawOpen 1 stays a drop the warp draws without folding.
JAW_DROP = 0.22
JAW_CURVE = 2.0
UPPER_LIP_RISE = 0.012
JAW_STEP_PX = 0.8  # the lips part over this many pixels
LENS_CORNER = 0.25  # share of the jaw's drop at the mouth corners (the opening is a lens)
CHEEK_SPREAD = 3.0  # past the corners the step widens by this per pixel outside them
LIP_FADE = 0.35  # below the lower lip the drop evens out over this share of the face height
# Below the chin the drop fades out over this share of the face height: the skin there
# takes up the chin's drop, at most 1.5 JAW_DROP / NECK_FADE squeezed (the warp stays
# one-to-one with room to spare under pose).
NECK_FADE = 0.6
PRESS_THIN = 0.018
PARTED = 0.02  # a photo's lips count as parted past this gap (face heights) ...
PARTED_SPLIT = 0.85  # ... and then part this far from the upper to the lower inner lip
ROLL_LOWER = 0.02  # mouthRollLower lifts the lower lip (and thins it) by this, face heights
# Upper teeth show at most this share of the face height below the upper lip, lower teeth
# this share above the lower lip (once the jaw is wide open).
TEETH_HEIGHT = 0.035
LOWER_TEETH_HEIGHT = 0.016


def jaw_response(jaw: float) -> float:
    """The share of ``JAW_DROP`` drawn at this jawOpen (1 at 1)."""
    j = min(max(float(jaw), 0.0), 1.0)
    return 1.0 - (1.0 - j) ** JAW_CURVE


def close_share(ch: Mapping[str, float]) -> float:
    """How much of the jaw's opening mouthClose seals (0..1). ARKit's mouthClose is in
    jawOpen's units: the lips meet when it equals jawOpen, however far the jaw is open."""
    jaw = float(ch.get("jawOpen", 0.0))
    close = float(ch.get("mouthClose", 0.0))
    if close <= 0.0 or jaw <= 0.0:
        return 0.0
    return min(close / jaw, 1.0)


class Mouth:
    """The mouth of one portrait, measured once; the methods run per frame."""

    def __init__(
        self,
        landmarks: np.ndarray,
        frame: FaceFrame,
        up: np.ndarray,
        photo_teeth: PhotoTeeth | None = None,
    ):
        """``landmarks`` [468, 2+] image pixels, ``up`` the same in ``frame``;
        ``photo_teeth`` what the photo's own mouth shows (default: no teeth)."""
        self.frame = frame
        self.up = up
        self.n_landmarks = len(up)
        self._lm_xy = landmarks[:, :2].astype(np.float64)
        self.photo_teeth = photo_teeth or PhotoTeeth.none()
        # Where the lips part: where the photo's upper teeth end, else midway between the
        # inner lips, so that the upper teeth stay with the upper lip and the lower go with
        # the jaw.
        self._split = self.photo_teeth.split
        upper, lower = up[list(fr.LIP_INNER_UPPER)], up[list(fr.LIP_INNER_LOWER)]
        self.photo_gap = float(np.max((lower - upper)[3:8, 1]))  # teeth show already when > 0
        self._parted = not self.photo_teeth.shown and self.photo_gap > PARTED * frame.fh
        if self._parted:
            # Parted lips without teeth found (a painting's half-open mouth): the photo's
            # own gap stays with the upper lip and the opening starts near the lower lip;
            # split midway, a straight painted edge cut across the photo's gap (art_16).
            self._split = np.full(len(self._split), PARTED_SPLIT)
        inner = upper + self._split[:, None] * (lower - upper)
        order = np.argsort(inner[:, 0])
        self._lip_line = (inner[order, 0], inner[order, 1])
        outer = up[list(fr.LIP_OUTER_LOWER)]
        order = np.argsort(outer[:, 0])
        self._chin_line = (outer[order, 0], outer[order, 1])  # the lower lip's lower edge
        self._half_mouth = max(
            abs(up[fr.MOUTH_CORNERS[1], 0] - up[fr.MOUTH_CORNERS[0], 0]) / 2, 1e-6
        )
        self._chin_v = float(up[fr.CHIN, 1])
        self.centre = up[list(fr.MOUTH_CORNERS[:2])].mean(0)
        # Per landmark: lower lip and chin follow the jaw fully.
        self.jaw_weight = self.landmark_jaw(0.0)
        lips = list(set(fr.UPPER_LIP) | set(fr.LOWER_LIP) | set(fr.MOUTH_CORNERS))
        self.lips = np.array(sorted(lips))
        rel = (up[self.lips, 0] - self.centre[0]) / self._half_mouth
        self.lip_side = np.clip(rel, -1.2, 1.2)  # -1 at the image-left corner, +1 right

    # -- the jaw ------------------------------------------------------------------------
    def jaw_share(self, xy: np.ndarray, close: float = 0.0) -> np.ndarray:
        """How much of the jaw's drop each image point [..., 2] follows.

        A step between the inner lips, sharp between the mouth corners (the lips part) and
        widening past them (the cheeks stretch); fading towards the ears and down the neck.
        ``close`` (mouthClose) keeps the lower lip up while the chin still drops.
        """
        fw, fh = self.frame.fw, self.frame.fh
        up = self.frame.to_face(xy.reshape(-1, 2).astype(np.float64))
        u = up[:, 0] - self.centre[0]
        line = np.interp(up[:, 0], *self._lip_line)
        across = np.abs(u) / self._half_mouth  # 1 at the corners
        outside = np.maximum(np.abs(u) - 0.7 * self._half_mouth, 0.0)
        width = JAW_STEP_PX + CHEEK_SPREAD * outside
        below = smoothstep((up[:, 1] - line) / width + 0.5)
        # The opening is lens-shaped: on the lower lip the drop tapers to LENS_CORNER at
        # the corners; below the lip everything drops fully again.
        lens = LENS_CORNER + (1 - LENS_CORNER) * np.clip(1.0 - across**2, 0.0, 1.0) ** 2
        lower_edge = np.interp(up[:, 0], *self._chin_line)
        lip = smoothstep((up[:, 1] - lower_edge) / (LIP_FADE * fh))  # 0 on the lower lip
        amount = (1.0 - (1.0 - lens) * (1.0 - lip)) * (1.0 - close * (1.0 - lip))
        sides = 1.0 - smoothstep((np.abs(u) - 0.22 * fw) / (0.3 * fw))
        neck = 1.0 - smoothstep((up[:, 1] - self._chin_v) / (NECK_FADE * fh))
        return (below * amount * sides * neck).reshape(xy.shape[:-1])

    def landmark_jaw(self, close: float) -> np.ndarray:
        """[468] share of the jaw's drop each landmark follows (``jaw_share`` at it)."""
        lm_xy = self._lm_xy
        jaw = self.jaw_share(lm_xy, close)
        # Lips sit on the step itself: the upper lip stays, the lower lip counts as below.
        lower = list(fr.LOWER_LIP)
        nudge = self.frame.from_face_vec(np.array([0.0, 1.5 * JAW_STEP_PX]))
        jaw[lower] = self.jaw_share(lm_xy[lower] + nudge, close)
        jaw[list(fr.UPPER_LIP)] = 0.0
        jaw[list(fr.MOUTH_CORNERS)] = 0.5 * LENS_CORNER * (1.0 - close)  # half the step
        return jaw

    def jaw_weights(self, ch: Mapping[str, float]) -> np.ndarray:
        """[468] ``landmark_jaw`` for this frame's mouthClose."""
        close = close_share(ch)
        return self.jaw_weight if close == 0.0 else self.landmark_jaw(close)

    def jaw_vector(self, ch: Mapping[str, float]) -> np.ndarray:
        """[2] image-pixel drop of everything that follows the jaw fully, this frame."""
        drop = jaw_response(ch.get("jawOpen", 0.0)) * JAW_DROP * self.frame.fh
        return self.frame.from_face_vec(np.array([0.0, drop]))

    # -- the lips -----------------------------------------------------------------------
    def move(self, ch: Mapping[str, float], disp: np.ndarray) -> None:
        """Add the jaw's and the lip shapes' displacement (upright face frame) to ``disp``
        ([N, 2], the landmarks first)."""
        lm = slice(0, self.n_landmarks)
        fw, fh = self.frame.fw, self.frame.fh
        jaw = jaw_response(ch.get("jawOpen", 0.0))
        disp[lm, 1] += self.jaw_weights(ch) * jaw * JAW_DROP * fh
        disp[list(fr.UPPER_LIP), 1] -= jaw * UPPER_LIP_RISE * fh
        # Lip shapes around the mouth centre.
        side = self.lip_side
        pucker = ch.get("mouthPucker", 0.0) + 0.7 * ch.get("mouthFunnel", 0.0)
        disp[self.lips, 0] -= pucker * 0.28 * side * fw * 0.25
        smile_l, smile_r = ch.get("mouthSmileLeft", 0.0), ch.get("mouthSmileRight", 0.0)
        frown_l, frown_r = ch.get("mouthFrownLeft", 0.0), ch.get("mouthFrownRight", 0.0)
        # The subject's left is the image's right (side > 0).
        smile = np.where(side > 0, smile_l, smile_r) * side**2
        frown = np.where(side > 0, frown_l, frown_r) * side**2
        disp[self.lips, 0] += smile * 0.07 * fw * np.sign(side)
        disp[self.lips, 1] += (frown * 0.03 - smile * 0.04) * fh
        # The cheeks round the corners go with them (smile up and out, frown down).
        for corner, sm, fn, out in (
            (fr.MOUTH_CORNERS[0], smile_r, frown_r, -1.0),
            (fr.MOUTH_CORNERS[1], smile_l, frown_l, 1.0),
        ):
            if sm or fn:
                near = np.exp(
                    -((np.linalg.norm(self.up - self.up[corner], axis=1) / (0.12 * fw)) ** 2)
                )
                near[self.lips] = 0.0
                disp[lm, 0] += near * sm * 0.05 * fw * out
                disp[lm, 1] += near * (fn * 0.02 - sm * 0.03) * fh
        funnel = ch.get("mouthFunnel", 0.0)
        disp[list(fr.UPPER_LIP), 1] -= funnel * 0.02 * fh
        disp[list(fr.LOWER_LIP), 1] += funnel * 0.03 * fh
        self._close_and_press(ch, disp, jaw)
        # mouthRollLower (f, v): the lower lip tucks up under the upper teeth, thinner.
        roll = ch.get("mouthRollLower", 0.0)
        if roll:
            disp[list(fr.LOWER_LIP), 1] -= roll * ROLL_LOWER * fh
            disp[list(fr.LIP_OUTER_LOWER[1:-1]), 1] -= roll * ROLL_LOWER * fh

    def _close_and_press(self, ch: Mapping[str, float], disp: np.ndarray, jaw: float) -> None:
        """mouthClose shuts the lips over an open jaw; mouthPress thins them, per side."""
        fh = self.frame.fh
        # mouthClose keeps the lower lip up (``jaw_share``); the upper lip comes down.
        close = close_share(ch) * min(jaw, 1.0)
        disp[list(fr.UPPER_LIP), 1] += close * UPPER_LIP_RISE * fh
        press_l, press_r = ch.get("mouthPressLeft", 0.0), ch.get("mouthPressRight", 0.0)
        if press_l or press_r:
            for outer, sign in ((fr.LIP_OUTER_UPPER, 1.0), (fr.LIP_OUTER_LOWER, -1.0)):
                idx = list(outer)
                rel = (self.up[idx, 0] - self.centre[0]) / (0.5 * self.frame.fw)
                amount = np.interp(rel, [-0.3, 0.3], [press_r, press_l])
                disp[idx, 1] += sign * amount * PRESS_THIN * fh
                disp[idx, 0] += amount * 0.01 * self.frame.fw * np.sign(rel)

    # -- the opened mouth ---------------------------------------------------------------
    def opening(
        self, source: np.ndarray, moved: np.ndarray, pose: HeadPose
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Top and bottom edges ([K, 2] image pixels, posed) of the newly opened gap between
        the lips, or None when the lips did not part beyond the photo's.

        ``source`` and ``moved`` are the control points [N, 3] before and after this
        frame's expression. Each inner-lip pair keeps the gap it had in the photo (teeth in
        a smiling photo stay with their lip); only the extra opening, centred between them,
        is returned.
        """
        upper_i, lower_i = list(fr.LIP_INNER_UPPER), list(fr.LIP_INNER_LOWER)
        down = self.frame.axes[1]
        gap_src = (source[lower_i, :2] - source[upper_i, :2]) @ down
        upper, lower = moved[upper_i], moved[lower_i]
        excess = np.clip((lower[:, :2] - upper[:, :2]) @ down - gap_src, 0.0, None)
        if excess.max() < 0.5:
            return None
        split = self._split[:, None]
        top = upper + split * (lower - upper)
        top[:, :2] -= (split * excess[:, None]) * down
        bottom = top.copy()
        bottom[:, :2] += excess[:, None] * down
        return pose.apply(top), pose.apply(bottom)

    def teeth(self, scale: float) -> TeethSizes:
        """What to paint in the gap at this head scale (pixels). A photo that shows teeth
        keeps its own: they stay on their lip and fewer, or none, are painted."""
        fh = self.frame.fh
        own = self.photo_teeth
        if own.shown:
            upper = 0.0 if own.upper_px > 0.5 * TEETH_HEIGHT * fh else TEETH_HEIGHT * fh
            upper = max(0.0, upper - own.upper_px)
        else:
            # Parted lips show their own inside above the opening: no teeth under it.
            upper = 0.0 if self._parted else max(0.0, TEETH_HEIGHT * fh - self.photo_gap)
        lower = 0.0 if own.lower else LOWER_TEETH_HEIGHT * fh
        full = (JAW_DROP + UPPER_LIP_RISE) * fh
        return TeethSizes(upper * scale, lower * scale, full * scale)
