"""LivePortrait's keypoint maths, and our head channels turned into its pose.

LivePortrait places 21 implicit 3-D keypoints: ``x = scale * (kp @ R + exp) + [tx, ty, 0]``
(its Eqn. 2, LP ``src/live_portrait_wrapper.py`` ``transform_keypoint``), with
``R = (Rz(roll) Ry(yaw) Rx(pitch))^T`` (LP ``src/utils/camera.py``). We drive it the way its
image-retargeting mode does (LP ``src/gradio_pipeline.py``): the photo's own pose, scale,
translation and expression, plus our offsets: angles added to the photo's, the scale
multiplied, the translation shifted, expression offsets added to ``exp``.

Axes: keypoint x runs right and y down over the crop (``grid_sample`` coordinates, -1..1
across the 256 input). With y down, a positive LP roll turns +x toward +y, i.e. clockwise on
screen, which is our ``head_roll`` > 0. For yaw and pitch the sign depends on which side of
z faces the camera, which no stand-in can tell; we take LP's camera on -z (as our own
landmarks: smaller z is closer), under which a positive LP yaw turns the face to the
viewer's left and a positive LP pitch tilts it down. FaceFusion's face editor maps its
head sliders the same way (yaw +1 -> -60 degrees, pitch +1 -> -20, roll +1 -> +15,
``face_editor/core.py`` ``edit_head_rotation``). To be checked on real weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

N_KP = 21
# Our channel -> LP angle, per axis (see the module docstring).
YAW_SIGN = -1.0
PITCH_SIGN = -1.0
ROLL_SIGN = 1.0


def headpose_degrees(bins: np.ndarray) -> np.ndarray:
    """Degrees from 66 bins of 3 degrees: the softmax expectation (LP ``camera.py``)."""
    b = np.asarray(bins, np.float64).reshape(-1, 66)
    e = np.exp(b - b.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return (p @ np.arange(66, dtype=np.float64)) * 3.0 - 97.5


def rotation_matrix(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """LP's ``get_rotation_matrix`` for angles in degrees: ``(Rz @ Ry @ Rx)^T``."""
    p, y, r = np.radians([pitch, yaw, roll])
    cp, sp, cy, sy, cr, sr = np.cos(p), np.sin(p), np.cos(y), np.sin(y), np.cos(r), np.sin(r)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return (rz @ ry @ rx).T


@dataclass(frozen=True)
class Motion:
    """One face's LP motion: angles in degrees, ``t`` [3], ``exp`` and ``kp`` [21, 3]."""

    pitch: float
    yaw: float
    roll: float
    scale: float
    t: np.ndarray
    exp: np.ndarray
    kp: np.ndarray

    def keypoints(self) -> np.ndarray:
        """[21, 3] float64: ``scale * (kp @ R + exp) + [tx, ty, 0]``."""
        r = rotation_matrix(self.pitch, self.yaw, self.roll)
        x = self.scale * (self.kp @ r + self.exp)
        x[:, :2] += self.t[:2]
        return x


def driving_motion(
    source: Motion,
    channels: Mapping[str, float],
    exp_offset: np.ndarray,
    face_width: float,
    crop_size: int,
) -> Motion:
    """The photo's motion moved by one MotionTrack frame.

    Angles add to the photo's; ``head_scale`` multiplies its scale; ``head_x``/``head_y``
    (face widths) become keypoint units (2 across the crop: ``face_width`` crop pixels per
    face width over ``crop_size / 2``); ``exp_offset`` [21, 3] adds to ``exp``. The z
    translation is zeroed, as LP's driving (``live_portrait_pipeline.py``)."""
    per_fw = 2.0 * face_width / crop_size
    t = np.array(
        [
            source.t[0] + per_fw * float(channels.get("head_x", 0.0)),
            source.t[1] + per_fw * float(channels.get("head_y", 0.0)),
            0.0,
        ]
    )
    return replace(
        source,
        pitch=source.pitch + PITCH_SIGN * float(channels.get("head_pitch", 0.0)),
        yaw=source.yaw + YAW_SIGN * float(channels.get("head_yaw", 0.0)),
        roll=source.roll + ROLL_SIGN * float(channels.get("head_roll", 0.0)),
        scale=source.scale * float(channels.get("head_scale", 1.0)),
        t=t,
        exp=source.exp + exp_offset,
    )
