"""Per-frame measurement of a face video: ``FaceFeatures`` for every frame, None-free.

Faces are followed from frame to frame (``face.tracker``): the detector runs only to find
the face, when it is lost, and once a second as a check.

The reference is the first frame where a face is found (or a given one, such as the
portrait a take was made from), so a real clip and a take made from its first frame are
measured against the same face. Frames without a face are rows of NaN, counted by
``found``; filling them is the caller's choice (``capture.fill``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..errors import CancelledError
from ..face.analyzer import FaceAnalyzer
from ..face.measure import FEATURES, FaceFeatures, FaceReading
from ..face.tracker import FaceTracker
from ..take.loop import Cancel, is_cancelled


@dataclass
class Measurements:
    """Features [n_frames, len(FEATURES)] (NaN where no face), at ``fps``."""

    fps: float
    values: np.ndarray
    found: np.ndarray  # bool [n_frames]
    reference: FaceReading | None = None
    landmarks: list[np.ndarray | None] = field(default_factory=list)  # when kept
    detector_runs: int = 0  # frames the face detector ran on (the rest were tracked)

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[:, FEATURES.index(name)]


def measure_frames(
    frames: Iterable[np.ndarray],
    analyzer: FaceAnalyzer,
    fps: float,
    reference: FaceReading | None = None,
    keep_landmarks: bool = False,
    progress: Callable[[int], None] | None = None,
    cancel: Cancel = None,
) -> Measurements:
    """Measure each frame against ``reference`` (default: the first face found)."""
    rows: list[np.ndarray] = []
    found: list[bool] = []
    kept: list[np.ndarray | None] = []
    features = FaceFeatures(reference) if reference is not None else None
    tracker = FaceTracker(analyzer)
    for i, frame in enumerate(frames):
        if is_cancelled(cancel):
            raise CancelledError("Capture cancelled; nothing was written.")
        reading = tracker.read(frame)
        if reading is not None and features is None:
            reference = reading
            features = FaceFeatures(reading)
        if reading is None or features is None:
            rows.append(np.full(len(FEATURES), np.nan))
            found.append(False)
        else:
            rows.append(features.measure(reading))
            found.append(True)
        if keep_landmarks:
            kept.append(None if reading is None else reading.landmarks)
        if progress is not None:
            progress(i)
    values = np.array(rows, np.float64).reshape(-1, len(FEATURES))
    return Measurements(fps, values, np.array(found, bool), reference, kept, tracker.detector_runs)
