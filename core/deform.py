"""Where the face's control points go for one frame of a MotionTrack.

The source face gives ~500 control points: the 468 landmarks (3-D), the irises, and two
rings around the head for hair and neck. ``Deformer.targets`` moves them for a frame's
channel values: expression first (jaw, lips, lids, irises, brows, in the face's own upright
frame), then the head's rigid pose (yaw, pitch, roll about a pivot behind the face,
translation, scale). Pure numpy: the renderer turns these points into a dense warp.

Sign conventions (documented in the README): head_yaw > 0 turns the face towards the
viewer's right, head_pitch > 0 tilts it up, head_roll > 0 tilts it clockwise on screen;
head_x/head_y move it right/down in face widths; gaze_yaw > 0 looks to the viewer's right,
gaze_pitch > 0 looks up.
"""

from __future__ import annotations

import math

import numpy as np

from . import face_regions as fr
from .face import SourceFace

RING_COUNT = 24
# Blink: the upper lid travels this share of the eye opening, the lower lid rises a little,
# and the skin up to the crease follows the lid so the eye is covered by eyelid skin.
LID_CLOSE = 0.92
LOWER_LID_RISE = 0.08
CREASE_SHARE = 0.75
# (x radius in face widths, y radius in face heights, share of the head's motion)
RINGS = ((0.95, 1.0, 1.0), (1.45, 1.5, 0.45))


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def rotation(yaw_deg: float, pitch_deg: float, roll_deg: float) -> np.ndarray:
    """3x3 rotation in image axes (x right, y down, z away from the camera)."""
    a, b, c = (math.radians(v) for v in (yaw_deg, pitch_deg, roll_deg))
    ry = np.array([[math.cos(a), 0, -math.sin(a)], [0, 1, 0], [math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), math.sin(b)], [0, -math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ rx @ ry


class Deformer:
    """Precomputes the face's frame and weights once; ``targets`` runs per frame."""

    def __init__(self, face: SourceFace):
        lm = face.landmarks.astype(np.float64)
        self.face = face
        self.angle = face.roi.angle
        c, s = math.cos(self.angle), math.sin(self.angle)
        self.axes = np.array([[c, s], [-s, c]])  # rows: face-right and face-down in the image
        self.centre = lm[:, :2].mean(0)
        up = self._to_face(lm[:, :2])
        self.fw = float(up[:, 0].max() - up[:, 0].min())
        self.fh = float(np.linalg.norm(lm[fr.CHIN, :2] - lm[fr.FOREHEAD_TOP, :2]))
        self.pivot = np.array([*self.centre, lm[:, 2].mean() + 0.6 * self.fw])
        self._build_points(lm)
        self._build_weights(up)

    # -- geometry helpers ---------------------------------------------------------------
    def _to_face(self, pts: np.ndarray) -> np.ndarray:
        """Image pixels -> upright face frame (x along the eyes, y down the face)."""
        return (pts - self.centre) @ self.axes.T

    def _from_face_vec(self, vec: np.ndarray) -> np.ndarray:
        return vec @ self.axes

    def _build_points(self, lm: np.ndarray) -> None:
        iris = self.face.iris.reshape(-1, 3).astype(np.float64)
        rings, shares = [], []
        t = np.linspace(0, 2 * math.pi, RING_COUNT, endpoint=False)
        for rx, ry, share in RINGS:
            local = np.stack([rx * self.fw * np.cos(t), ry * self.fh * np.sin(t)], 1)
            rings.append(local @ self.axes + self.centre)
            shares.append(np.full(RING_COUNT, share))
        ring_xy = np.concatenate(rings)
        ring = np.concatenate([ring_xy, np.full((len(ring_xy), 1), self.pivot[2])], 1)
        self.source = np.concatenate([lm, iris, ring])  # [N, 3]
        self.n_landmarks = len(lm)
        self.iris_slice = slice(len(lm), len(lm) + len(iris))
        self.share = np.concatenate([np.ones(len(lm) + len(iris)), *shares])

    def _build_weights(self, up: np.ndarray) -> None:
        """Per-landmark jaw weights: lower lip and chin follow the jaw fully."""
        mouth = up[list(fr.MOUTH_CORNERS[:2])].mean(0)
        lower = up[fr.LIP_OUTER_LOWER[5]]
        vertical = _smoothstep((up[:, 1] - mouth[1]) / max(lower[1] - mouth[1], 1e-6))
        horizontal = 1.0 - _smoothstep((np.abs(up[:, 0] - mouth[0]) - 0.22 * self.fw)
                                       / (0.3 * self.fw))
        jaw = vertical * horizontal
        jaw[list(fr.UPPER_LIP)] = 0.0
        jaw[list(fr.LOWER_LIP)] = 1.0
        jaw[list(fr.MOUTH_CORNERS)] = 0.5
        self.jaw_weight = jaw
        lips = list(set(fr.UPPER_LIP) | set(fr.LOWER_LIP) | set(fr.MOUTH_CORNERS))
        self.lips = np.array(sorted(lips))
        half_mouth = max(abs(up[fr.MOUTH_CORNERS[1], 0] - up[fr.MOUTH_CORNERS[0], 0]) / 2, 1e-6)
        rel = (up[self.lips, 0] - mouth[0]) / half_mouth
        self.lip_side = np.clip(rel, -1.2, 1.2)  # -1 at the image-left corner, +1 right
        self.mouth_centre = mouth
        self.up = up

    # -- per frame ---------------------------------------------------------------------
    def expression(self, ch: dict[str, float]) -> np.ndarray:
        """[N, 2] displacement in the upright face frame for expression channels."""
        disp = np.zeros((len(self.source), 2))
        lm = slice(0, self.n_landmarks)
        fw, fh = self.fw, self.fh
        jaw = ch.get("jawOpen", 0.0)
        disp[lm, 1] += self.jaw_weight * jaw * 0.13 * fh
        disp[list(fr.UPPER_LIP), 1] -= jaw * 0.012 * fh
        # Lip shapes around the mouth centre.
        side = self.lip_side
        pucker = ch.get("mouthPucker", 0.0) + 0.7 * ch.get("mouthFunnel", 0.0)
        disp[self.lips, 0] -= pucker * 0.28 * side * fw * 0.25
        smile_l, smile_r = ch.get("mouthSmileLeft", 0.0), ch.get("mouthSmileRight", 0.0)
        frown_l, frown_r = ch.get("mouthFrownLeft", 0.0), ch.get("mouthFrownRight", 0.0)
        # The subject's left is the image's right (side > 0).
        smile = np.where(side > 0, smile_l, smile_r) * side ** 2
        frown = np.where(side > 0, frown_l, frown_r) * side ** 2
        disp[self.lips, 0] += smile * 0.05 * fw * np.sign(side)
        disp[self.lips, 1] += (frown * 0.03 - smile * 0.035) * fh
        funnel = ch.get("mouthFunnel", 0.0)
        disp[list(fr.UPPER_LIP), 1] -= funnel * 0.01 * fh
        disp[list(fr.LOWER_LIP), 1] += funnel * 0.015 * fh
        self._eyes(ch, disp)
        self._brows(ch, disp)
        return disp

    def _eyes(self, ch: dict[str, float], disp: np.ndarray) -> None:
        up = self.up
        iris = self._to_face(self.face.iris[:, :, :2].reshape(-1, 2)).reshape(2, 5, 2)
        gaze = np.array([math.sin(math.radians(ch.get("gaze_yaw", 0.0))),
                         -math.sin(math.radians(ch.get("gaze_pitch", 0.0)))])
        for e, (name, (upper, lower, crease)) in enumerate(
                zip(("eyeBlinkRight", "eyeBlinkLeft"), fr.EYES, strict=True)):
            blink = float(np.clip(ch.get(name, 0.0), 0.0, 1.0))
            gap = up[list(lower), 1] - up[list(upper), 1]  # eye opening along the lid
            close = LID_CLOSE * blink
            disp[list(upper), 1] += close * gap
            disp[list(crease), 1] += CREASE_SHARE * close * gap
            disp[list(lower), 1] -= LOWER_LID_RISE * blink * gap
            # Irises: squeezed with the opening, and moved by gaze while the eye is open.
            xs = up[list(upper), 0]
            order = np.argsort(xs)
            top = np.interp(iris[e, :, 0], xs[order], up[list(upper), 1][order])
            bottom = np.interp(iris[e, :, 0], xs[order], up[list(lower), 1][order])
            new_top = top + close * (bottom - top)
            new_bottom = bottom - LOWER_LID_RISE * blink * (bottom - top)
            frac = (iris[e, :, 1] - top) / np.maximum(bottom - top, 1e-6)
            squeezed = new_top + frac * (new_bottom - new_top)
            eye_w = abs(up[upper[-1], 0] - up[upper[0], 0])
            idx = np.arange(self.iris_slice.start + 5 * e, self.iris_slice.start + 5 * e + 5)
            disp[idx, 1] += squeezed - iris[e, :, 1]
            disp[idx] += (1.0 - blink) * gaze * 0.4 * eye_w

    def _brows(self, ch: dict[str, float], disp: np.ndarray) -> None:
        fh = self.fh
        inner = ch.get("browInnerUp", 0.0)
        disp[list(fr.RIGHT_BROW_INNER + fr.LEFT_BROW_INNER), 1] -= inner * 0.04 * fh
        disp[list(fr.RIGHT_BROW), 1] += ch.get("browDownRight", 0.0) * 0.03 * fh
        disp[list(fr.LEFT_BROW), 1] += ch.get("browDownLeft", 0.0) * 0.03 * fh

    def targets(self, ch: dict[str, float]) -> np.ndarray:
        """[N, 2] image-pixel positions of every control point for these channel values."""
        moved = self.source.copy()
        moved[:, :2] += self._from_face_vec(self.expression(ch))
        rot = rotation(ch.get("head_yaw", 0.0), ch.get("head_pitch", 0.0),
                       ch.get("head_roll", 0.0))
        scale = ch.get("head_scale", 1.0)
        shift = np.array([ch.get("head_x", 0.0), ch.get("head_y", 0.0)]) * self.fw
        posed = (moved - self.pivot) @ rot.T * scale + self.pivot
        posed_xy = posed[:, :2] + shift
        # Rings follow the head only partly, so hair and neck blend into the still body.
        return moved[:, :2] + self.share[:, None] * (posed_xy - moved[:, :2])

    def mouth_band(self, targets: np.ndarray) -> np.ndarray | None:
        """Outline of the newly opened gap between the lips, or None when it did not open.

        Each inner-lip pair keeps the gap it had in the photo (teeth in a smiling photo
        stay with their lip); only the extra opening, centred between them, is returned.
        """
        upper_src = self.source[list(fr.LIP_INNER_UPPER), :2]
        lower_src = self.source[list(fr.LIP_INNER_LOWER), :2]
        upper, lower = targets[list(fr.LIP_INNER_UPPER)], targets[list(fr.LIP_INNER_LOWER)]
        down = self.axes[1]
        gap_src = (lower_src - upper_src) @ down
        excess = np.clip((lower - upper) @ down - gap_src, 0.0, None)
        if excess.max() < 0.5:
            return None
        mid = (upper + lower) / 2
        top = mid - 0.5 * excess[:, None] * down
        bottom = mid + 0.5 * excess[:, None] * down
        return np.concatenate([top, bottom[::-1]])
