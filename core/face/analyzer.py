"""Face analysis with the built-in pack: detector -> 468 landmarks -> irises, in image pixels.

This follows MediaPipe's own graphs (face detection short range, face landmark, iris
landmark) but runs the converted ONNX models on ONNX Runtime, so neither TensorFlow nor
mediapipe is needed at run time.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..errors import ImageError
from . import detect as face_detect
from .detect import Detection
from .roi import Roi, roi_from_keypoints
from .source import SourceFace

if TYPE_CHECKING:
    from ..runtime.packs import ModelPack

LANDMARK_INPUT = 192
IRIS_INPUT = 64
# MediaPipe's eye corner landmarks. "First" eye = the subject's right eye (image left).
EYE_CORNERS = ((33, 133), (362, 263))
MIN_PRESENCE = 0.5


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(x, -100, 100))))


class FaceAnalyzer:
    """Finds the (largest) face in an RGB uint8 image and measures it."""

    def __init__(self, pack: ModelPack):
        self.pack = pack
        self._detector = self.pack.session("face_detector")
        self._landmarker = self.pack.session("face_landmarks")
        self._iris = self.pack.session("iris_landmarks")

    # -- detection ---------------------------------------------------------------------
    def _detect_in(self, image: np.ndarray, window: Roi) -> list[Detection]:
        """Run the detector on one square window of the image (letterboxed by the ROI)."""
        # Letterboxed with black, as MediaPipe does; the model wants -1..1.
        patch = window.crop(image, face_detect.INPUT_SIZE, border=cv2.BORDER_CONSTANT)
        crop = patch.astype(np.float32) / 127.5 - 1.0
        reg, cls = self._detector.run(None, {"input": crop[None]})
        boxes, scores, kps = face_detect.decode(reg[0], cls[0])
        size = face_detect.INPUT_SIZE
        out = []
        for box, score, kp in face_detect.weighted_nms(boxes, scores, kps):
            corners = window.to_image(np.array([box[:2], box[2:]]) * size, size)
            points = window.to_image(kp * size, size)
            out.append(Detection((*corners[0], *corners[1]), score, points))
        return out

    def detect(self, image: np.ndarray) -> list[Detection]:
        """All faces, largest first. Small faces in big images are searched in tiles."""
        h, w = image.shape[:2]
        side = max(w, h)
        found = self._detect_in(image, Roi(w / 2, h / 2, side))
        tile = side / 2
        while not found and tile >= 2 * face_detect.INPUT_SIZE:
            # Overlapping tiles, halving in size until a face turns up (small faces only).
            nx = max(1, math.ceil(2 * w / tile) - 1)
            ny = max(1, math.ceil(2 * h / tile) - 1)
            for cy in np.linspace(tile / 2, max(tile / 2, h - tile / 2), ny):
                for cx in np.linspace(tile / 2, max(tile / 2, w - tile / 2), nx):
                    found += self._detect_in(image, Roi(float(cx), float(cy), tile))
            tile /= 2
        if not found:
            return []
        boxes = np.array([d.box for d in found], np.float32)
        scores = np.array([d.score for d in found], np.float32)
        kps = np.stack([d.keypoints for d in found])
        merged = [
            Detection((float(b[0]), float(b[1]), float(b[2]), float(b[3])), s, k)
            for b, s, k in face_detect.weighted_nms(boxes, scores, kps)
        ]
        return sorted(merged, key=lambda d: -d.area)

    # -- landmarks ---------------------------------------------------------------------
    @staticmethod
    def landmark_roi(detection: Detection) -> Roi:
        """MediaPipe's crop for the landmark model: eyes level, box x1.5, square."""
        kp = detection.keypoints
        return roi_from_keypoints(kp[0], kp[1], detection.box, 1.5)

    def landmarks(self, image: np.ndarray, roi: Roi) -> tuple[np.ndarray, float]:
        """468 landmarks in image pixels and the model's face-presence probability."""
        crop = roi.crop(image, LANDMARK_INPUT).astype(np.float32) / 255.0
        pts, flag = self._landmarker.run(None, {"input_1": crop[None]})
        pts = pts.reshape(468, 3)
        return roi.to_image(pts, LANDMARK_INPUT), _sigmoid(float(flag.reshape(-1)[0]))

    def irises(self, image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Iris [2, 5, 3] and eye contour [2, 71, 3] landmarks in image pixels."""
        irises, contours = [], []
        for flip, (a, b) in zip((False, True), EYE_CORNERS, strict=True):
            p0, p1 = landmarks[a, :2], landmarks[b, :2]
            box = (min(p0[0], p1[0]), min(p0[1], p1[1]), max(p0[0], p1[0]), max(p0[1], p1[1]))
            roi = roi_from_keypoints(p0, p1, box, 2.3)
            crop = roi.crop(image, IRIS_INPUT, flip=flip).astype(np.float32) / 255.0
            contour, iris = self._iris.run(None, {"input_1": np.ascontiguousarray(crop[None])})
            contour, iris = contour.reshape(71, 3), iris.reshape(5, 3)
            if flip:
                contour[:, 0] = IRIS_INPUT - contour[:, 0]
                iris[:, 0] = IRIS_INPUT - iris[:, 0]
            irises.append(roi.to_image(iris, IRIS_INPUT))
            contours.append(roi.to_image(contour, IRIS_INPUT))
        return np.stack(irises), np.stack(contours)

    # -- all together ------------------------------------------------------------------
    def analyze(self, image: np.ndarray, source: str = "the image") -> SourceFace:
        """Detect, pick the largest face, and measure it; ImageError if there is none."""
        detections = self.detect(image)
        if not detections:
            raise ImageError(
                f"No face found in {source}; use a portrait where one face is clearly visible."
            )
        best = detections[0]
        notes = []
        if len(detections) > 1:
            notes.append(f"{len(detections)} faces found; using the largest.")
        roi = self.landmark_roi(best)
        landmarks, presence = self.landmarks(image, roi)
        if presence < MIN_PRESENCE:
            raise ImageError(
                f"The face found in {source} is too unclear to track (confidence "
                f"{presence:.2f}); use a sharper, more frontal portrait."
            )
        iris, contours = self.irises(image, landmarks)
        h, w = image.shape[:2]
        return SourceFace(
            (w, h),
            best.box,
            best.score,
            landmarks,
            iris,
            contours,
            roi,
            presence,
            len(detections),
            notes,
        )

    def measure(self, image: np.ndarray) -> np.ndarray | None:
        """Landmarks of the largest face, or None: used to check rendered frames."""
        detections = self.detect(image)
        if not detections:
            return None
        return self.landmarks(image, self.landmark_roi(detections[0]))[0]
