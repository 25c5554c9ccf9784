"""The upright face frame that every feature module measures in, and ``smoothstep``.

``deform.Deformer`` builds one ``FaceFrame`` per portrait and hands it to the feature
modules (``head``, ``mouth``, ``eyes``, ``brows``); it sits here, below them all, so that
none of them has to import the composer that imports them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import overload

import numpy as np

from ..face import regions as fr
from ..face.source import SourceFace


@overload
def smoothstep(x: float) -> float: ...
@overload
def smoothstep(x: np.ndarray) -> np.ndarray: ...
def smoothstep(x: float | np.ndarray) -> float | np.ndarray:
    """0 below 0, 1 above 1, a smooth cubic between (elementwise for arrays)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


@dataclass(frozen=True)
class FaceFrame:
    """The face's own axes in the image: x along the eyes, y down the face.

    ``centre`` is the landmarks' mean (image pixels); ``axes`` has rows face-right and
    face-down in the image; ``fw`` / ``fh`` are the face's width across and height from
    forehead to chin, in pixels.
    """

    centre: np.ndarray  # [2]
    axes: np.ndarray  # [2, 2]
    fw: float
    fh: float

    @classmethod
    def of(cls, face: SourceFace) -> FaceFrame:
        lm = face.landmarks.astype(np.float64)
        c, s = math.cos(face.roi.angle), math.sin(face.roi.angle)
        axes = np.array([[c, s], [-s, c]])
        centre = lm[:, :2].mean(0)
        up = (lm[:, :2] - centre) @ axes.T
        fw = float(up[:, 0].max() - up[:, 0].min())
        fh = float(np.linalg.norm(lm[fr.CHIN, :2] - lm[fr.FOREHEAD_TOP, :2]))
        return cls(centre, axes, fw, fh)

    def to_face(self, pts: np.ndarray) -> np.ndarray:
        """Image pixels [..., 2] -> upright face frame (x along the eyes, y down the face)."""
        return (pts - self.centre) @ self.axes.T

    def from_face_vec(self, vec: np.ndarray) -> np.ndarray:
        """A displacement in the face frame [..., 2] -> the same in image pixels."""
        return vec @ self.axes
