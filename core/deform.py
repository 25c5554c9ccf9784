"""Where the face's control points go for one frame of a MotionTrack.

The source face gives ~500 control points: the 468 landmarks (3-D), the irises, and a ring
around the head that expressions leave still. ``Deformer.targets`` moves them for a frame's
channel values: expression first (jaw, lips, lids, irises, brows, in the face's own upright
frame), then the head's rigid pose (``HeadPose``: yaw, pitch, roll about a pivot behind the
face, translation, scale). The pose applies with ``head_weight``: 1 on the head and hair,
falling smoothly to 0 over the neck and the background around it, so shoulders and
background stay put. Pure numpy: the renderer turns these into a dense warp.

Sign conventions (documented in the README): head_yaw > 0 turns the face towards the
viewer's right, head_pitch > 0 tilts it up, head_roll > 0 tilts it clockwise on screen;
head_x/head_y move it right/down in face widths; gaze_yaw > 0 looks to the viewer's right,
gaze_pitch > 0 looks up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import face_regions as fr
from .face import SourceFace

RING_COUNT = 24
# Ring of still points (expressions do not reach past it): radii in face widths / heights.
RING = (0.95, 1.0)
# The head (with hair) as an ellipse in the upright face frame, from the landmarks' centre:
# x radius in face widths, y radii above / below in face heights. The pose applies fully
# inside it and fades out (smoothstep) until HEAD_FALLOFF times these radii.
HEAD_ELLIPSE = (0.72, 0.9, 0.58)
HEAD_FALLOFF = 1.9
# Blink: the upper lid travels this share of the eye opening, the lower lid rises a little,
# and the skin up to the crease follows the lid so the eye is covered by eyelid skin.
LID_CLOSE = 0.92
LOWER_LID_RISE = 0.08
CREASE_SHARE = 0.75


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


@dataclass(frozen=True)
class HeadPose:
    """The head's rigid motion for one frame: rotate about ``pivot``, scale, then shift."""

    rot: np.ndarray  # 3x3
    scale: float
    shift: np.ndarray  # [2] pixels
    pivot: np.ndarray  # [3] pixels

    @property
    def is_identity(self) -> bool:
        return (np.allclose(self.rot, np.eye(3)) and self.scale == 1.0
                and not np.any(self.shift))

    def apply(self, xyz: np.ndarray) -> np.ndarray:
        """[..., 3] points (pixels, z in pixels) -> [..., 2] posed image positions."""
        posed = (xyz - self.pivot) @ self.rot.T * self.scale + self.pivot
        return posed[..., :2] + self.shift


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
        t = np.linspace(0, 2 * math.pi, RING_COUNT, endpoint=False)
        local = np.stack([RING[0] * self.fw * np.cos(t), RING[1] * self.fh * np.sin(t)], 1)
        ring_xy = local @ self.axes + self.centre
        # Depth of the head's outline: the mean depth of the face oval's landmarks; each ring
        # point takes the depth of the oval landmark nearest its direction, so the side of
        # the head (ears, hair) keeps the depth of the cheek next to it.
        oval = lm[list(fr.FACE_OVAL)]
        self.outline_z = float(oval[:, 2].mean())
        oval_dir = self._to_face(oval[:, :2])
        oval_angle = np.arctan2(oval_dir[:, 1] / self.fh, oval_dir[:, 0] / self.fw)
        gap = np.angle(np.exp(1j * (t[:, None] - oval_angle[None, :])))
        ring_z = oval[np.abs(gap).argmin(1), 2]
        ring = np.concatenate([ring_xy, ring_z[:, None]], 1)
        self.depth_range = (float(lm[:, 2].min()), float(oval[:, 2].max()))
        self.source = np.concatenate([lm, iris, ring])  # [N, 3]
        self.n_landmarks = len(lm)
        self.iris_slice = slice(len(lm), len(lm) + len(iris))
        self.n_face = len(lm) + len(iris)  # landmarks and irises; the ring follows

    def head_weight(self, xy: np.ndarray) -> np.ndarray:
        """How much of the head's pose each image point [..., 2] follows (1 on the head)."""
        up = self._to_face(xy.reshape(-1, 2).astype(np.float64))
        rx, ry_top, ry_bottom = HEAD_ELLIPSE
        ry = np.where(up[:, 1] < 0, ry_top * self.fh, ry_bottom * self.fh)
        rho = np.hypot(up[:, 0] / (rx * self.fw), up[:, 1] / ry)
        w = 1.0 - _smoothstep((rho - 1.0) / (HEAD_FALLOFF - 1.0))
        return w.reshape(xy.shape[:-1])

    def head_extent(self) -> np.ndarray:
        """[M, 2] image points on the outline where the head's influence ends."""
        rx, ry_top, ry_bottom = HEAD_ELLIPSE
        t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
        ry = np.where(np.sin(t) < 0, ry_top, ry_bottom) * self.fh
        local = HEAD_FALLOFF * np.stack([rx * self.fw * np.cos(t), ry * np.sin(t)], 1)
        return local @ self.axes + self.centre

    def pose(self, ch: dict[str, float]) -> HeadPose:
        return HeadPose(rotation(ch.get("head_yaw", 0.0), ch.get("head_pitch", 0.0),
                                 ch.get("head_roll", 0.0)),
                        float(ch.get("head_scale", 1.0)),
                        np.array([ch.get("head_x", 0.0), ch.get("head_y", 0.0)]) * self.fw,
                        self.pivot)

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

    def expression_targets(self, ch: dict[str, float]) -> np.ndarray:
        """[N, 3] control points after the expression alone (z unchanged)."""
        moved = self.source.copy()
        moved[:, :2] += self._from_face_vec(self.expression(ch))
        return moved

    def targets(self, ch: dict[str, float]) -> np.ndarray:
        """[N, 2] image-pixel positions of every control point for these channel values."""
        moved = self.expression_targets(ch)
        posed = self.pose(ch).apply(moved)
        w = self.head_weight(self.source[:, :2])[:, None]
        return moved[:, :2] + w * (posed - moved[:, :2])

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
