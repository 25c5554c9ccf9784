"""The head's rigid pose: how far it reaches and where it takes the face for a frame.

``HeadPose`` turns the head (yaw, pitch, roll about a pivot behind the face, with the
landmarks' own depth, so a turn is drawn at its true angle), scales and shifts it. It applies with
``head_weight``: 1 on the head and hair (an ellipse in the face frame), falling smoothly to
0 over the neck and the background by ``head_extent``, so shoulders and background stay
put. Expressions move the face first (``mouth``, ``eyes``, ``brows``); the pose comes last.

Sign conventions (documented in the README): head_yaw > 0 turns the face towards the
viewer's right, head_pitch > 0 tilts it up, head_roll > 0 tilts it clockwise on screen;
head_x/head_y move it right/down in face widths.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .frame import FaceFrame, smoothstep

# The head (with hair) as an ellipse in the upright face frame, from the landmarks' centre:
# x radius in face widths, y radii above / below in face heights. The pose applies fully
# inside it and fades out (smoothstep) until HEAD_FALLOFF times these radii.
HEAD_ELLIPSE = (0.72, 0.9, 0.58)
HEAD_FALLOFF = 1.9
# The landmarks' depth counts this much in the head's turns. It is 1: with less, a turn
# moves the nose too little against the face's outline and reads as a smaller angle (0.6
# drew yaw at about 0.45 of the asked angle, measured with the landmark model). The warp
# keeps itself one-to-one by smoothing the depth instead (``warp.DEPTH_SMOOTH``), then
# ``restore_depth`` gives the smoothed depth back its contrast at the landmarks.
DEPTH_SCALE = 1.0
# The turns' pivot sits this many face widths behind the landmarks' mean depth (where a
# turn's sideways swing comes from; capture's ``FaceFeatures`` assumes the same).
PIVOT_BEHIND = 0.36
# A warp moves the face's points for a pitch as the depth says, but draws none of what else
# tells a nod (the nostrils' and the forehead's changing size, shading): the landmark model
# reads a warped pitch at about 0.8 of its geometry (0.70-1.02 over seven portraits, where
# yaw and roll read 0.91-1.02), so pitch is drawn this much larger to read as asked.
PITCH_DRAWN = 1.15


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


def head_pivot(frame: FaceFrame, landmarks: np.ndarray) -> np.ndarray:
    """[3] the point the head turns about: behind the landmarks' centre."""
    return np.array([*frame.centre, landmarks[:, 2].mean() + PIVOT_BEHIND * frame.fw])


def restore_depth(
    smoothed: np.ndarray, at_landmarks: np.ndarray, landmarks_z: np.ndarray
) -> np.ndarray:
    """``smoothed`` depth (any shape) rescaled about its mean at the landmarks so that, read
    at the landmarks (``at_landmarks`` [n]), it follows their own depth (``landmarks_z``
    [n]) with slope 1. Smoothing flattens the nose against the cheeks, and a turn's angle is
    read from how far the points move for their depth: too flat a depth draws a smaller
    turn than asked. The smoothing's shape (what keeps the warp one-to-one) stays."""
    ds = at_landmarks - at_landmarks.mean()
    dz = landmarks_z - landmarks_z.mean()
    gain = float(dz @ dz) / max(float(ds @ dz), 1e-12)
    return (smoothed - at_landmarks.mean()) * gain + landmarks_z.mean()


def pose(ch: Mapping[str, float], frame: FaceFrame, pivot: np.ndarray) -> HeadPose:
    """The head's pose for one frame's channel values."""
    return HeadPose(
        rotation(
            ch.get("head_yaw", 0.0),
            PITCH_DRAWN * ch.get("head_pitch", 0.0),
            ch.get("head_roll", 0.0),
        ),
        float(ch.get("head_scale", 1.0)),
        np.array([ch.get("head_x", 0.0), ch.get("head_y", 0.0)]) * frame.fw,
        pivot,
    )


def head_weight(frame: FaceFrame, xy: np.ndarray) -> np.ndarray:
    """How much of the head's pose each image point [..., 2] follows (1 on the head)."""
    up = frame.to_face(xy.reshape(-1, 2).astype(np.float64))
    rx, ry_top, ry_bottom = HEAD_ELLIPSE
    ry = np.where(up[:, 1] < 0, ry_top * frame.fh, ry_bottom * frame.fh)
    rho = np.hypot(up[:, 0] / (rx * frame.fw), up[:, 1] / ry)
    w = 1.0 - smoothstep((rho - 1.0) / (HEAD_FALLOFF - 1.0))
    return w.reshape(xy.shape[:-1])


def head_extent(frame: FaceFrame) -> np.ndarray:
    """[M, 2] image points on the outline where the head's influence ends."""
    rx, ry_top, ry_bottom = HEAD_ELLIPSE
    t = np.linspace(0, 2 * math.pi, 72, endpoint=False)
    ry = np.where(np.sin(t) < 0, ry_top, ry_bottom) * frame.fh
    local = HEAD_FALLOFF * np.stack([rx * frame.fw * np.cos(t), ry * np.sin(t)], 1)
    return local @ frame.axes + frame.centre
