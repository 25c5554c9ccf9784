"""The LivePortrait crop, placed from our own landmarks.

LivePortrait crops a square around the face in a frame turned so that the line from the
eyes' midpoint to the mouth's midpoint is vertical; the square's side is ``CROP_SCALE``
times the landmarks' larger extent in that frame, its centre moved ``VY_RATIO`` of the side
along that line (up: more forehead), resampled to 512 and fed to the networks at 256
(LP ``src/utils/crop.py`` ``parse_rect_from_landmark`` and
``_estimate_similar_transform_from_pts``; the values from ``src/config/crop_config.py``).
The networks were trained on such crops, so placing it the same way matters more than
which landmark detector found the face. We use MediaPipe's 468 landmarks from the built-in
analysis: the eye centres are the irises, the mouth's midpoint the outer lip corners, and
the extent leaves out the forehead above the brows (LP's 106/203-point sets stop at the
brows).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ...face import regions as fr
from ...face.source import SourceFace

CROP_SCALE = 2.3
VX_RATIO = 0.0
VY_RATIO = -0.125
CROP_SIZE = 512  # the crop and the generator's output
INPUT_SIZE = 256  # what the extractors read


@dataclass(frozen=True)
class LpCrop:
    """The crop's affine (photo -> 512 crop) and what the paste-back needs."""

    to_crop: np.ndarray  # [2, 3] photo pixels -> crop pixels
    to_photo: np.ndarray  # [2, 3] crop pixels -> photo pixels
    box: tuple[int, int, int, int]  # x0, y0, x1, y1: the crop square's bounds in the photo
    side: float  # the square's side in photo pixels
    face_width: float  # the face's width in crop pixels (head_x/head_y are in face widths)

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The 512x512 RGB uint8 crop (outside the photo: black, as LP's ``warpAffine``)."""
        return cv2.warpAffine(
            image,
            self.to_crop,
            (CROP_SIZE, CROP_SIZE),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=(0, 0, 0),
        )


def network_input(crop: np.ndarray) -> np.ndarray:
    """[1, 3, 256, 256] float32 RGB in 0..1 from a 512 RGB crop (``INTER_AREA``, as FLP)."""
    small = cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    return (small.astype(np.float32) / 255.0).transpose(2, 0, 1)[None]


def _crop_points(face: SourceFace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eye midpoint, mouth midpoint and the points whose extent sizes the square."""
    lm = face.landmarks[:, :2].astype(np.float64)
    eyes = face.iris[:, 0, :2].astype(np.float64).mean(axis=0)
    mouth = (lm[fr.MOUTH_CORNERS[0]] + lm[fr.MOUTH_CORNERS[1]]) / 2.0
    return eyes, mouth, lm


def lp_crop(face: SourceFace) -> LpCrop:
    """The crop for ``face`` (one sentence when the landmarks cannot place it)."""
    from ...errors import ImageError

    eyes, mouth, lm = _crop_points(face)
    uy = mouth - eyes
    length = float(np.linalg.norm(uy))
    uy = uy / length if length > 1e-3 else np.array([0.0, 1.0])
    ux = np.array([uy[1], -uy[0]])
    turn = np.stack([ux, uy])  # rows: the face's own x and y axes in the photo
    brows = lm[list(fr.RIGHT_BROW + fr.LEFT_BROW)]
    centre0 = lm.mean(axis=0)
    local = (lm - centre0) @ turn.T
    top = float(((brows - centre0) @ turn.T)[:, 1].min())
    local = local[local[:, 1] >= top]
    lo, hi = local.min(axis=0), local.max(axis=0)
    side = float(max(hi - lo)) * CROP_SCALE
    if not np.isfinite(side) or side < 8.0:
        raise ImageError(
            "The face is too small to crop for the LivePortrait renderer; use a larger portrait."
        )
    mid = (lo + hi) / 2.0
    centre = centre0 + ux * mid[0] + uy * mid[1]
    centre = centre + ux * (VX_RATIO * side) + uy * (VY_RATIO * side)
    s = CROP_SIZE / side
    to_crop = np.zeros((2, 3))
    to_crop[:, :2] = s * turn
    to_crop[:, 2] = CROP_SIZE / 2.0 - s * (turn @ centre)
    full = np.vstack([to_crop, [0.0, 0.0, 1.0]])
    to_photo = np.linalg.inv(full)[:2]
    corners = np.array([[0, 0], [CROP_SIZE, 0], [CROP_SIZE, CROP_SIZE], [0, CROP_SIZE]], float)
    photo_corners = corners @ to_photo[:, :2].T + to_photo[:, 2]
    w, h = face.image_size
    x0 = int(max(0, np.floor(photo_corners[:, 0].min())))
    y0 = int(max(0, np.floor(photo_corners[:, 1].min())))
    x1 = int(min(w, np.ceil(photo_corners[:, 0].max()) + 1))
    y1 = int(min(h, np.ceil(photo_corners[:, 1].max()) + 1))
    return LpCrop(to_crop, to_photo, (x0, y0, x1, y1), side, face.face_width * s)
