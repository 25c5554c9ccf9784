"""Following one face through a video: each frame's landmarks place the next frame's
landmark crop, as MediaPipe's face mesh does, so the face detector runs only to find the
face, when the landmark model loses it, and as a periodic check.

The crop a frame's landmarks place is made to match the one the detector placed when it
last found the face (the same size and centre relative to the landmarks' box): the landmark
model reads a face a little differently in a looser crop (blinks and jaw were followed
less closely), and crops that keep their relation to the face keep readings comparable
across a video.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .analyzer import MIN_PRESENCE, FaceAnalyzer
from .measure import FaceReading
from .roi import Roi, roi_from_keypoints

# Frames between checks that the followed face is still the largest one found (a second,
# larger face that walks in is taken up within this many frames).
CHECK_EVERY = 30
EYE_OUTER = (33, 263)  # MediaPipe's face_landmarks_to_roi: eyes level
CROP_SCALE = 1.5  # ... and the landmarks' box grown 1.5 times, square


def roi_from_landmarks(landmarks: np.ndarray) -> Roi:
    """MediaPipe's landmark crop for the next frame, from this frame's 468 landmarks."""
    x0, y0 = landmarks[:, :2].min(0)
    x1, y1 = landmarks[:, :2].max(0)
    box = (float(x0), float(y0), float(x1), float(y1))
    a, b = EYE_OUTER
    return roi_from_keypoints(landmarks[a, :2], landmarks[b, :2], box, CROP_SCALE)


@dataclass(frozen=True)
class CropFit:
    """The detector's crop relative to the landmarks' crop: size ratio and centre offset
    (in the crop's own rotated axes, in crop sizes)."""

    ratio: float = 1.0
    dx: float = 0.0
    dy: float = 0.0

    @staticmethod
    def between(found: Roi, placed: Roi) -> CropFit:
        c, s = math.cos(placed.angle), math.sin(placed.angle)
        ox, oy = found.cx - placed.cx, found.cy - placed.cy
        size = max(placed.size, 1e-6)
        return CropFit(found.size / size, (c * ox + s * oy) / size, (-s * ox + c * oy) / size)

    def apply(self, placed: Roi) -> Roi:
        c, s = math.cos(placed.angle), math.sin(placed.angle)
        ox, oy = self.dx * placed.size, self.dy * placed.size
        return Roi(
            placed.cx + c * ox - s * oy,
            placed.cy + s * ox + c * oy,
            placed.size * self.ratio,
            placed.angle,
        )


class FaceTracker:
    """``read(frame)`` -> the followed face's ``FaceReading``, or None when none is seen."""

    def __init__(self, analyzer: FaceAnalyzer, check_every: int = CHECK_EVERY):
        self.analyzer = analyzer
        self.check_every = max(1, check_every)
        self.detector_runs = 0  # frames the detector ran on (speed accounting, tests)
        self._roi: Roi | None = None  # the crop for the next frame
        self._fit = CropFit()
        self._since_check = 0

    def read(self, frame: np.ndarray) -> FaceReading | None:
        landmarks = None
        if self._roi is not None and self._since_check < self.check_every:
            landmarks = self._landmarks(frame, self._roi)
            self._since_check += 1
            if landmarks is None:  # lost: look for it afresh
                self._roi = None
        if landmarks is None:
            landmarks = self._find(frame)
        if landmarks is None:
            self._roi = None
            return None
        self._roi = self._fit.apply(roi_from_landmarks(landmarks))
        iris, contours = self.analyzer.irises(frame, landmarks)
        return FaceReading(landmarks, iris, contours)

    def _landmarks(self, frame: np.ndarray, roi: Roi) -> np.ndarray | None:
        landmarks, presence = self.analyzer.landmarks(frame, roi)
        return landmarks if presence >= MIN_PRESENCE else None

    def _find(self, frame: np.ndarray) -> np.ndarray | None:
        """Detect the largest face; keep following the current one if it is that face."""
        self.detector_runs += 1
        self._since_check = 0
        detections = self.analyzer.detect(frame)
        if not detections:
            return None
        if self._roi is not None:
            x0, y0, x1, y1 = detections[0].box
            near = self._roi.size / 4
            if (
                abs((x0 + x1) / 2 - self._roi.cx) < near
                and abs((y0 + y1) / 2 - self._roi.cy) < near
            ):
                return self._landmarks(frame, self._roi)
        found = self.analyzer.landmark_roi(detections[0])
        landmarks = self._landmarks(frame, found)
        if landmarks is not None:
            self._fit = CropFit.between(found, roi_from_landmarks(landmarks))
        return landmarks
