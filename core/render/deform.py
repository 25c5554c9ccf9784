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

from ..face import regions as fr
from ..face.source import SourceFace

RING_COUNT = 24
# Jaw: the chin and lower lip drop this share of the face height at jawOpen = 1, the upper
# lip rises a little; mouthPress thins each lip by PRESS_THIN face heights.
JAW_DROP = 0.13
UPPER_LIP_RISE = 0.012
JAW_STEP_PX = 0.8  # the lips part over this many pixels
LENS_CORNER = 0.25  # share of the jaw's drop at the mouth corners (the opening is a lens)
PRESS_THIN = 0.018
ROLL_LOWER = 0.02  # mouthRollLower lifts the lower lip (and thins it) by this, face heights
BROW_OUTER_UP = 0.06  # face heights at the brow's outer end
WIDE_LIFT = 0.35  # eyeWide lifts the upper lid by this share of the eye opening
# Ring of still points (expressions do not reach past it): radii in face widths / heights.
RING = (0.95, 1.0)
# The head (with hair) as an ellipse in the upright face frame, from the landmarks' centre:
# x radius in face widths, y radii above / below in face heights. The pose applies fully
# inside it and fades out (smoothstep) until HEAD_FALLOFF times these radii.
HEAD_ELLIPSE = (0.72, 0.9, 0.58)
HEAD_FALLOFF = 1.9
# The landmarks' depth (and the pivot's distance behind the face) count this much in the
# head's turns: full depth makes the nose sweep over the far cheek, a fold a warp cannot
# draw; 0.6 keeps the turn readable without tearing up to about 20 degrees.
DEPTH_SCALE = 0.6
# Blink: the painted lid reaches this share of the eye opening and starts a little above
# the lid line (over the photo's lashes); the skin under the brow drops a little with it.
LID_CLOSE = 0.97
LID_OVERLAP = 0.3
CREASE_DROP = 0.18
# Gaze: how far the iris travels at 90 degrees, in eye widths, across and up/down.
GAZE_REACH = (0.5, 0.3)


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
        return np.allclose(self.rot, np.eye(3)) and self.scale == 1.0 and not np.any(self.shift)

    def apply(self, xyz: np.ndarray) -> np.ndarray:
        """[..., 3] points (pixels, z in pixels) -> [..., 2] posed image positions."""
        rel = xyz - self.pivot
        rel[..., 2] *= DEPTH_SCALE
        posed = rel @ self.rot.T * self.scale + self.pivot
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
        self.n_face = len(lm) + len(iris)  # landmarks and irises; the ring follows

    def landmark_jaw(self, close: float) -> np.ndarray:
        """[468] share of the jaw's drop each landmark follows (``jaw_share`` at it)."""
        lm_xy = self.face.landmarks[:, :2].astype(np.float64)
        jaw = self.jaw_share(lm_xy, close)
        # Lips sit on the step itself: the upper lip stays, the lower lip counts as below.
        lower = list(fr.LOWER_LIP)
        nudge = self._from_face_vec(np.array([0.0, 1.5 * JAW_STEP_PX]))
        jaw[lower] = self.jaw_share(lm_xy[lower] + nudge, close)
        jaw[list(fr.UPPER_LIP)] = 0.0
        jaw[list(fr.MOUTH_CORNERS)] = 0.5 * LENS_CORNER * (1.0 - close)  # half the step
        return jaw

    def jaw_weights(self, ch: dict[str, float]) -> np.ndarray:
        close = float(np.clip(ch.get("mouthClose", 0.0), 0.0, 1.0))
        return self.jaw_weight if close == 0.0 else self.landmark_jaw(close)

    def jaw_share(self, xy: np.ndarray, close: float = 0.0) -> np.ndarray:
        """How much of the jaw's drop each image point [..., 2] follows.

        A step between the inner lips, sharp between the mouth corners (the lips part) and
        widening past them (the cheeks stretch); fading towards the ears and down the neck.
        ``close`` (mouthClose) keeps the lower lip up while the chin still drops.
        """
        up = self._to_face(xy.reshape(-1, 2).astype(np.float64))
        u = up[:, 0] - self.mouth_centre[0]
        line = np.interp(up[:, 0], *self._lip_line)
        across = np.abs(u) / self._half_mouth  # 1 at the corners
        outside = np.maximum(np.abs(u) - 0.7 * self._half_mouth, 0.0)
        width = JAW_STEP_PX + 1.5 * outside
        below = _smoothstep((up[:, 1] - line) / width + 0.5)
        # The opening is lens-shaped: on the lower lip the drop tapers to LENS_CORNER at
        # the corners; below the lip everything drops fully again.
        lens = LENS_CORNER + (1 - LENS_CORNER) * np.clip(1.0 - across**2, 0.0, 1.0) ** 2
        lower_edge = np.interp(up[:, 0], *self._chin_line)
        lip = _smoothstep((up[:, 1] - lower_edge) / (0.2 * self.fh))  # 0 on the lower lip
        amount = (1.0 - (1.0 - lens) * (1.0 - lip)) * (1.0 - close * (1.0 - lip))
        sides = 1.0 - _smoothstep((np.abs(u) - 0.22 * self.fw) / (0.3 * self.fw))
        neck = 1.0 - _smoothstep((up[:, 1] - self._chin_v) / (0.4 * self.fh))
        return (below * amount * sides * neck).reshape(xy.shape[:-1])

    def jaw_vector(self, ch: dict[str, float]) -> np.ndarray:
        """[2] image-pixel drop of everything that follows the jaw fully, this frame."""
        return self._from_face_vec(np.array([0.0, ch.get("jawOpen", 0.0) * JAW_DROP * self.fh]))

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
        return HeadPose(
            rotation(ch.get("head_yaw", 0.0), ch.get("head_pitch", 0.0), ch.get("head_roll", 0.0)),
            float(ch.get("head_scale", 1.0)),
            np.array([ch.get("head_x", 0.0), ch.get("head_y", 0.0)]) * self.fw,
            self.pivot,
        )

    def _build_weights(self, up: np.ndarray) -> None:
        """Per-landmark jaw weights: lower lip and chin follow the jaw fully."""
        mouth = up[list(fr.MOUTH_CORNERS[:2])].mean(0)
        # Where the lips part: midway between the inner lips, so that in a photo with
        # parted lips the upper teeth stay with the upper lip and the lower with the jaw.
        inner = (up[list(fr.LIP_INNER_UPPER)] + up[list(fr.LIP_INNER_LOWER)]) / 2
        order = np.argsort(inner[:, 0])
        self._lip_line = (inner[order, 0], inner[order, 1])
        outer = up[list(fr.LIP_OUTER_LOWER)]
        order = np.argsort(outer[:, 0])
        self._chin_line = (outer[order, 0], outer[order, 1])  # the lower lip's lower edge
        self._half_mouth = max(
            abs(up[fr.MOUTH_CORNERS[1], 0] - up[fr.MOUTH_CORNERS[0], 0]) / 2, 1e-6
        )
        self._chin_v = float(up[fr.CHIN, 1])
        self.mouth_centre = mouth
        self.jaw_weight = self.landmark_jaw(0.0)
        lips = list(set(fr.UPPER_LIP) | set(fr.LOWER_LIP) | set(fr.MOUTH_CORNERS))
        self.lips = np.array(sorted(lips))
        half_mouth = max(abs(up[fr.MOUTH_CORNERS[1], 0] - up[fr.MOUTH_CORNERS[0], 0]) / 2, 1e-6)
        rel = (up[self.lips, 0] - mouth[0]) / half_mouth
        self.lip_side = np.clip(rel, -1.2, 1.2)  # -1 at the image-left corner, +1 right
        self.mouth_centre = mouth
        self.up = up
        inner_gap = up[list(fr.LIP_INNER_LOWER), 1] - up[list(fr.LIP_INNER_UPPER), 1]
        self.photo_gap = float(np.max(inner_gap[3:8]))  # teeth show already when > 0

    # -- per frame ---------------------------------------------------------------------
    def expression(self, ch: dict[str, float]) -> np.ndarray:
        """[N, 2] displacement in the upright face frame for expression channels."""
        disp = np.zeros((len(self.source), 2))
        lm = slice(0, self.n_landmarks)
        fw, fh = self.fw, self.fh
        jaw = ch.get("jawOpen", 0.0)
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
        self._eyes(ch, disp)
        self._brows(ch, disp)
        return disp

    def _close_and_press(self, ch: dict[str, float], disp: np.ndarray, jaw: float) -> None:
        """mouthClose shuts the lips over an open jaw; mouthPress thins them, per side."""
        fh = self.fh
        # mouthClose keeps the lower lip up (``jaw_share``); the upper lip comes down.
        close = float(np.clip(ch.get("mouthClose", 0.0), 0.0, 1.0)) * min(jaw, 1.0)
        disp[list(fr.UPPER_LIP), 1] += close * UPPER_LIP_RISE * fh
        press_l, press_r = ch.get("mouthPressLeft", 0.0), ch.get("mouthPressRight", 0.0)
        if press_l or press_r:
            for outer, sign in ((fr.LIP_OUTER_UPPER, 1.0), (fr.LIP_OUTER_LOWER, -1.0)):
                idx = list(outer)
                rel = (self.up[idx, 0] - self.mouth_centre[0]) / (0.5 * self.fw)
                amount = np.interp(rel, [-0.3, 0.3], [press_r, press_l])
                disp[idx, 1] += sign * amount * PRESS_THIN * fh
                disp[idx, 0] += amount * 0.01 * self.fw * np.sign(rel)

    def _eyes(self, ch: dict[str, float], disp: np.ndarray) -> None:
        """Blinks: the skin below the brow follows the closing lid a little. The lid itself
        is painted over the eye (``lid_lines``) and the irises move in the photo's own eye
        (``gaze_shift``), so neither the eye nor the iris is smeared by the warp."""
        up = self.up
        for name, (upper, lower, crease) in zip(
            ("eyeBlinkRight", "eyeBlinkLeft"), fr.EYES, strict=True
        ):
            blink = float(np.clip(ch.get(name, 0.0), 0.0, 1.0))
            gap = up[list(lower), 1] - up[list(upper), 1]
            disp[list(crease), 1] += CREASE_DROP * blink * gap
            # eyeWide lifts the upper lid (and the skin above it a little less).
            wide = float(np.clip(ch.get(name.replace("Blink", "Wide"), 0.0), 0.0, 1.0))
            disp[list(upper), 1] -= WIDE_LIFT * wide * gap
            disp[list(crease), 1] -= 0.6 * WIDE_LIFT * wide * gap

    def lid_lines(self, ch: dict[str, float]) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        """Per eye with a blink: (open lid line, closed lid's edge, eye opening, blink),
        posed, in image pixels. The lid covers the eye from the first line down to the
        second."""
        out = []
        moved = self.expression_targets(ch)
        pose = self.pose(ch)
        for name, (upper, lower, _) in zip(("eyeBlinkRight", "eyeBlinkLeft"), fr.EYES, strict=True):
            blink = float(np.clip(ch.get(name, 0.0), 0.0, 1.0))
            if blink < 0.02:
                continue
            top, bottom = moved[list(upper)], moved[list(lower)]
            opening = float(np.median((bottom[:, :2] - top[:, :2]) @ self.axes[1]))
            start = top.copy()
            # Cover the photo's lashes, more as the lid comes down (no jump at the start).
            start[:, :2] -= LID_OVERLAP * _smoothstep(blink / 0.4) * opening * self.axes[1]
            edge = top + LID_CLOSE * blink * (bottom - top)
            out.append((pose.apply(start), pose.apply(edge), opening * pose.scale, blink))
        return out

    def gaze_shift(self, ch: dict[str, float]) -> np.ndarray:
        """[2, 2] iris shift (image pixels, in the photo) for each eye, subject's right first."""
        gaze = np.array(
            [
                math.sin(math.radians(ch.get("gaze_yaw", 0.0))),
                -math.sin(math.radians(ch.get("gaze_pitch", 0.0))),
            ]
        )
        out = np.zeros((2, 2))
        for e, (upper, _lower, _) in enumerate(fr.EYES):
            eye_w = abs(self.up[upper[-1], 0] - self.up[upper[0], 0])
            out[e] = self._from_face_vec(gaze * np.array(GAZE_REACH) * eye_w)
        return out

    def _brows(self, ch: dict[str, float], disp: np.ndarray) -> None:
        fh = self.fh
        inner = ch.get("browInnerUp", 0.0)
        disp[list(fr.RIGHT_BROW_INNER + fr.LEFT_BROW_INNER), 1] -= inner * 0.04 * fh
        disp[list(fr.RIGHT_BROW), 1] += ch.get("browDownRight", 0.0) * 0.03 * fh
        disp[list(fr.LEFT_BROW), 1] += ch.get("browDownLeft", 0.0) * 0.03 * fh
        # The outer ends rise, the inner ends stay.
        for brow, inner_end, name in (
            (fr.RIGHT_BROW, fr.RIGHT_BROW_INNER, "browOuterUpRight"),
            (fr.LEFT_BROW, fr.LEFT_BROW_INNER, "browOuterUpLeft"),
        ):
            outer = ch.get(name, 0.0)
            if outer:
                reach = np.abs(self.up[list(brow), 0] - self.up[list(inner_end), 0].mean())
                disp[list(brow), 1] -= outer * BROW_OUTER_UP * fh * reach / max(reach.max(), 1e-6)

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

    def mouth_opening(self, ch: dict[str, float]) -> tuple[np.ndarray, np.ndarray] | None:
        """Top and bottom edges ([K, 2] image pixels, posed) of the newly opened gap between
        the lips, or None when the lips did not part beyond the photo's.

        Each inner-lip pair keeps the gap it had in the photo (teeth in a smiling photo
        stay with their lip); only the extra opening, centred between them, is returned.
        """
        moved = self.expression_targets(ch)
        upper_i, lower_i = list(fr.LIP_INNER_UPPER), list(fr.LIP_INNER_LOWER)
        down = self.axes[1]
        gap_src = (self.source[lower_i, :2] - self.source[upper_i, :2]) @ down
        upper, lower = moved[upper_i], moved[lower_i]
        excess = np.clip((lower[:, :2] - upper[:, :2]) @ down - gap_src, 0.0, None)
        if excess.max() < 0.5:
            return None
        mid = (upper + lower) / 2
        half = np.zeros_like(mid)
        half[:, :2] = 0.5 * excess[:, None] * down
        pose = self.pose(ch)
        return pose.apply(mid - half), pose.apply(mid + half)
