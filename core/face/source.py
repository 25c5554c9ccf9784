"""SourceFace: what every later stage knows about the portrait's face (the face stage's Result).

The built-in analysis fills the MediaPipe fields (468 landmarks, irises, eye contours); a
model pack's profile may add its own data under ``extra`` (for example a neural renderer's
keypoints or appearance features), which the matching renderer reads and everything else
ignores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .roi import Roi


@dataclass
class SourceFace:
    """What the renderer and motion stages need to know about the portrait's face."""

    image_size: tuple[int, int]  # width, height
    box: tuple[float, float, float, float]  # detector box, x0 y0 x1 y1 (pixels)
    score: float
    landmarks: np.ndarray  # [468, 3] pixels; z in pixels, smaller = closer to the camera
    iris: np.ndarray  # [2, 5, 3] centre then 4 rim points, subject's right eye first
    eye_contours: np.ndarray  # [2, 71, 3]
    roi: Roi  # the crop the landmark model saw
    presence: float
    n_faces: int = 1
    notes: list[str] = field(default_factory=list)
    # Profile-specific data (keyed by the profile's name or its own keys); not in run.json.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def face_width(self) -> float:
        xs = self.landmarks[:, 0]
        return float(xs.max() - xs.min())

    def to_dict(self) -> dict[str, object]:
        return {
            "box": [round(v, 2) for v in self.box],
            "score": round(self.score, 4),
            "presence": round(self.presence, 4),
            "n_faces": self.n_faces,
            "notes": list(self.notes),
        }
