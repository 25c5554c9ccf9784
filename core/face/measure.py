"""Measurements read off one face's landmarks: the instrument shared by quality checks,
capture from video and the calibration against real talkers.

``read_face`` runs the built-in analysis on a frame (landmarks and eye models);
``rotation_angles`` / ``head_rotation`` give the head's pose by a rigid fit,
``eye_openings`` and ``mouth_opening`` the lids and lips. ``FaceFeatures`` puts a frame's
face back into a reference frame's pose (a similarity fit on landmarks that expressions do
not move) and measures pose, translation, scale, lids, irises, lips and brows there, in
face widths of the reference, so that a turn of the head does not read as a smile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import regions as fr
from .analyzer import MIN_PRESENCE, FaceAnalyzer

# Landmarks that expressions hardly move (forehead, nose bridge, eye corners, cheekbones,
# temples): the head's rigid pose is fitted on these. The lower nose (195, 5, 4, 1) is left
# out: the landmark model pulls it down with the upper lip when the jaw drops, which read
# as the head pitching down.
RIGID = (
    10, 151, 9, 8, 168, 6, 197, 33, 133, 362, 263, 127, 356, 234, 454,
    116, 345, 123, 352, 50, 280, 67, 297, 109, 338, 103, 332, 54, 284, 21, 251,
)  # fmt: skip
LIP_TOP, LIP_BOTTOM = 0, 17  # outer lip midpoints
INNER_TOP, INNER_BOTTOM = 13, 14  # inner lip midpoints
CORNERS = (61, 291)  # mouth corners, subject's right then left
BROW_OUTER = ((46, 53, 52), (276, 283, 282))
EYE_CORNERS = ((33, 133), (362, 263))


def rotation_angles(r: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation built as ``render.head.rotation`` builds it."""
    yaw = math.degrees(math.atan2(r[2, 0], r[2, 2]))
    pitch = math.degrees(math.asin(float(np.clip(-r[2, 1], -1.0, 1.0))))
    roll = math.degrees(math.atan2(-r[0, 1], r[1, 1]))
    return yaw, pitch, roll


def head_rotation(source: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """3x3 rotation that best maps the source landmarks onto measured ones (Kabsch)."""
    x = source - source.mean(0)
    y = measured - measured.mean(0)
    u, _, vt = np.linalg.svd(x.T @ y)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    return vt.T @ np.diag([1.0, 1.0, d]) @ u.T


def eye_openings(contours: np.ndarray) -> tuple[float, float]:
    """Opening of the subject's right and left eye: mean lid gap over the eye's width.

    Measured on the iris model's eye contours ([2, 71, 3], ``FaceAnalyzer.irises``): its
    first 16 points outline the lids (0-8 lower, corner to corner; 9-15 upper), and it reads
    closed lids far better than the 468-point face mesh does.
    """
    out = []
    for e in range(2):
        p = contours[e, :16, :2]
        width = np.linalg.norm(p[0] - p[8])
        gaps = np.linalg.norm(p[1:8] - p[9:16], axis=1)
        out.append(float(gaps.mean() / max(width, 1e-6)))
    return out[0], out[1]


def mouth_opening(landmarks: np.ndarray) -> float:
    """Inner-lip gap at the middle of the mouth over the face width."""
    width = landmarks[:, 0].max() - landmarks[:, 0].min()
    gap = np.linalg.norm(landmarks[INNER_BOTTOM, :2] - landmarks[INNER_TOP, :2])
    return float(gap / max(width, 1e-6))


@dataclass
class FaceReading:
    """The analysis of one frame: 468 landmarks, irises and eye contours (image pixels)."""

    landmarks: np.ndarray  # [468, 3]
    iris: np.ndarray  # [2, 5, 3]
    contours: np.ndarray  # [2, 71, 3]


def read_face(analyzer: FaceAnalyzer, frame: np.ndarray) -> FaceReading | None:
    """The largest face in an RGB frame, or None when there is none (or it is too unclear)."""
    detections = analyzer.detect(frame)
    if not detections:
        return None
    landmarks, presence = analyzer.landmarks(frame, analyzer.landmark_roi(detections[0]))
    if presence < MIN_PRESENCE:
        return None
    iris, contours = analyzer.irises(frame, landmarks)
    return FaceReading(landmarks, iris, contours)


# Measured per frame by ``FaceFeatures.measure``, in this order (see docs/capture.md).
FEATURES = (
    "yaw", "pitch", "roll",  # degrees, the rigid fit against the reference
    "x", "y", "scale",  # pivot shift (reference face widths), size ratio
    "eye_right", "eye_left",  # lid gap over eye width (iris model's contours)
    "iris_x_right", "iris_y_right", "iris_x_left", "iris_y_left",  # eye widths, right/down
    "mouth",  # inner-lip gap (face widths), as mouth_opening reads it in the reference pose
    "chin",  # nose tip to chin
    "mouth_width",  # corner to corner
    "corner_out_right", "corner_up_right", "corner_out_left", "corner_up_left",
    "lip_upper", "lip_lower",  # red of the lips, outer to inner edge, at the middle
    "brow_inner_right", "brow_inner_left", "brow_outer_right", "brow_outer_left",  # above eye
)  # fmt: skip


class FaceFeatures:
    """Measures faces against a reference reading (a video's first face, a portrait)."""

    def __init__(self, reference: FaceReading, pivot_behind: float = 0.36):
        """``pivot_behind``: where the head turns about, in face widths behind the face (the
        warp renderer's ``PIVOT_BEHIND * DEPTH_SCALE``), so a turn is not read as a shift."""
        lm = reference.landmarks.astype(np.float64)
        self.ref = lm[list(RIGID)]
        self.ref_centre = self.ref.mean(0)
        self.ref_spread = float(np.sqrt(((self.ref - self.ref_centre) ** 2).sum(1).mean()))
        eyes = lm[[33, 263], :2]
        d = eyes[1] - eyes[0]
        angle = math.atan2(d[1], d[0])
        c, s = math.cos(angle), math.sin(angle)
        self.axes = np.array([[c, s], [-s, c]])  # rows: face-right, face-down in the image
        up = (lm[:, :2] - lm[:, :2].mean(0)) @ self.axes.T
        self.fw = float(up[:, 0].max() - up[:, 0].min())
        self.pivot = np.array([0.0, 0.0, pivot_behind * self.fw])

    def measure(self, reading: FaceReading) -> np.ndarray:
        """``FEATURES`` of one reading, as float64 [len(FEATURES)]."""
        lm = reading.landmarks.astype(np.float64)
        pts = lm[list(RIGID)]
        centre = pts.mean(0)
        rot = head_rotation(self.ref, pts)
        yaw, pitch, roll = rotation_angles(rot)
        scale = float(np.sqrt(((pts - centre) ** 2).sum(1).mean())) / self.ref_spread
        # The centroid moves when the head turns about a pivot behind it; take that out.
        swing = (rot @ -self.pivot + self.pivot)[:2] * scale
        shift = (centre[:2] - self.ref_centre[:2] - swing) / self.fw

        def back(p: np.ndarray) -> np.ndarray:
            """Image points [..., 3] -> the reference pose, upright face frame, face widths."""
            q = ((p - centre) @ rot) / scale + self.ref_centre
            return (q[..., :2] - self.ref_centre[:2]) @ self.axes.T / self.fw

        a = back(lm)
        eye_r, eye_l = eye_openings(reading.contours)
        # Irises against their eye's corners in the image as it is (the iris model's depth
        # does not match the mesh's), along the eyes' current line, in eye widths.
        iris = []
        for e, (i0, i1) in enumerate(EYE_CORNERS):
            p0, p1 = lm[i0, :2], lm[i1, :2]
            along = (p1 - p0) / max(float(np.linalg.norm(p1 - p0)), 1e-6)
            rel = reading.iris[e, 0, :2].astype(np.float64) - (p0 + p1) / 2
            width = max(float(np.linalg.norm(p1 - p0)), 1e-6)
            iris += [float(rel @ along) / width, float(rel @ [-along[1], along[0]]) / width]
        # The corners against the lips' midline (x) and the upper inner lip's middle (y).
        mid_x = a[[LIP_TOP, LIP_BOTTOM, INNER_TOP, INNER_BOTTOM], 0].mean()
        mid_y = a[INNER_TOP, 1]  # the upper lip: it stays when the jaw drops
        corners = []
        for k, side in enumerate((-1.0, 1.0)):  # subject's right corner is on the image left
            p = a[CORNERS[k]]
            corners += [side * (p[0] - mid_x), mid_y - p[1]]
        brows = []
        for group, eye in ((fr.RIGHT_BROW_INNER, 0), (fr.LEFT_BROW_INNER, 1)):
            brows.append(_eye_line(a, eye) - a[list(group), 1].mean())
        for outer, eye in zip(BROW_OUTER, (0, 1), strict=True):
            brows.append(_eye_line(a, eye) - a[list(outer), 1].mean())
        return np.array(
            [
                yaw, pitch, roll, shift[0], shift[1], scale, eye_r, eye_l, *iris,
                a[INNER_BOTTOM, 1] - a[INNER_TOP, 1],
                a[fr.CHIN, 1] - a[fr.NOSE_TIP, 1],
                a[CORNERS[1], 0] - a[CORNERS[0], 0],
                *corners,
                a[INNER_TOP, 1] - a[LIP_TOP, 1],
                a[LIP_BOTTOM, 1] - a[INNER_BOTTOM, 1],
                brows[0], brows[1], brows[2], brows[3],
            ]
        )  # fmt: skip


def _eye_line(a: np.ndarray, eye: int) -> float:
    """Height of an eye's corners (face frame): what the brows are measured above."""
    i0, i1 = EYE_CORNERS[eye]
    return float((a[i0, 1] + a[i1, 1]) / 2)
