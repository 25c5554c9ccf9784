"""Decoding MediaPipe's short-range face detector: anchors, boxes, keypoints, weighted NMS.

The model predicts offsets from 896 fixed SSD anchors on a 128x128 letterboxed input; the
constants below are those of MediaPipe's ``face_detection_short_range`` graph.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

INPUT_SIZE = 128
STRIDES = (8, 16, 16, 16)
ANCHORS_PER_LAYER = 2
MIN_SCORE = 0.5
NMS_IOU = 0.3
NUM_KEYPOINTS = 6  # right eye, left eye, nose tip, mouth centre, right ear, left ear


@dataclass(frozen=True)
class Detection:
    """A face found by the detector, in image pixels (edge-based coordinates)."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    keypoints: np.ndarray  # [6, 2]

    @property
    def area(self) -> float:
        x0, y0, x1, y1 = self.box
        return max(0.0, x1 - x0) * max(0.0, y1 - y0)


@lru_cache(maxsize=1)
def anchors() -> np.ndarray:
    """[896, 2] anchor centres in 0..1, in the order the model emits its predictions."""
    centres = []
    layer = 0
    while layer < len(STRIDES):
        stride = STRIDES[layer]
        same = sum(1 for s in STRIDES[layer:] if s == stride)  # layers sharing a stride merge
        cells = int(np.ceil(INPUT_SIZE / stride))
        for y in range(cells):
            for x in range(cells):
                centres.extend([((x + 0.5) / cells, (y + 0.5) / cells)] * same * ANCHORS_PER_LAYER)
        layer += same
    return np.asarray(centres, np.float32)


def decode(regressors: np.ndarray, scores: np.ndarray, min_score: float = MIN_SCORE):
    """Raw outputs ([896, 16], [896]) to (boxes [K, 4] xyxy, scores [K], keypoints [K, 6, 2]),
    all in 0..1 of the model input."""
    a = anchors()
    prob = 1.0 / (1.0 + np.exp(-np.clip(scores.reshape(-1).astype(np.float64), -100, 100)))
    keep = prob >= min_score
    raw = regressors.reshape(-1, 16)[keep] / INPUT_SIZE
    a = a[keep]
    centre = raw[:, 0:2] + a
    half = raw[:, 2:4] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    keypoints = raw[:, 4:].reshape(-1, NUM_KEYPOINTS, 2) + a[:, None, :]
    return boxes, prob[keep], keypoints


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])  # noqa: E731
    return inter / np.maximum(area(box) + area(boxes) - inter, 1e-9)


def weighted_nms(
    boxes: np.ndarray, scores: np.ndarray, keypoints: np.ndarray, threshold: float = NMS_IOU
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """MediaPipe's WEIGHTED suppression: overlapping boxes are averaged by score."""
    order = np.argsort(-scores)
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    remaining = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        cluster = remaining & (iou(boxes[i], boxes) > threshold)
        cluster[i] = True
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(0) / w.sum()
        kps = (keypoints[cluster] * w[:, :, None]).sum(0) / w.sum()
        out.append((box, float(scores[i]), kps))
        remaining &= ~cluster
    return out
