"""Rotated square regions of interest: the crops MediaPipe's models expect, and back.

A ROI is a square of side ``size`` pixels centred on (cx, cy), rotated by ``angle`` radians
(clockwise on screen, as MediaPipe's NormalizedRect). Crops are affine warps, so mapping
model outputs back to image pixels is the same matrix applied the other way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Roi:
    cx: float
    cy: float
    size: float
    angle: float = 0.0

    def crop_matrix(self, out: int) -> np.ndarray:
        """2x3 affine matrix taking image pixels to crop pixels (``out`` x ``out``)."""
        return cv2.invertAffineTransform(self.uncrop_matrix(out))

    def uncrop_matrix(self, out: int) -> np.ndarray:
        """2x3 affine matrix taking crop pixels back to image pixels."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        k = self.size / out
        # crop pixel u (edge-based, 0..out) -> local (u/out - 0.5) * size -> rotate -> centre
        return np.array(
            [
                [c * k, -s * k, self.cx - (c - s) * self.size / 2],
                [s * k, c * k, self.cy - (s + c) * self.size / 2],
            ],
            np.float64,
        )

    def crop(
        self, image: np.ndarray, out: int, flip: bool = False, border: int = cv2.BORDER_REPLICATE
    ) -> np.ndarray:
        """The ROI as an ``out`` x ``out`` image, optionally mirrored."""
        m = self.crop_matrix(out)
        shrink = int(self.size / out / 2)
        if shrink > 1:  # area-average first so a big photo does not alias in a small crop
            h, w = image.shape[:2]
            small = (max(1, round(w / shrink)), max(1, round(h / shrink)))
            image = cv2.resize(image, small, interpolation=cv2.INTER_AREA)
            m = m.copy()
            m[:, 0] *= w / small[0]
            m[:, 1] *= h / small[1]
        m = _centre_based(m)
        patch = cv2.warpAffine(image, m, (out, out), flags=cv2.INTER_LINEAR, borderMode=border)
        return patch[:, ::-1] if flip else patch

    def to_image(self, points: np.ndarray, out: int) -> np.ndarray:
        """Map [N, 2+] crop-pixel points (edge-based) to image pixels; z scales with size."""
        m = self.uncrop_matrix(out)
        result = points.astype(np.float64).copy()
        result[:, :2] = points[:, :2] @ m[:, :2].T + m[:, 2]
        if points.shape[1] > 2:
            result[:, 2] = points[:, 2] * self.size / out
        return result.astype(np.float32)


def _centre_based(m: np.ndarray) -> np.ndarray:
    """Rewrite an edge-based affine map (pixel centres at +0.5) for cv2's centre-based one."""
    out = m.copy()
    out[:, 2] += m[:, :2].sum(axis=1) * 0.5 - 0.5
    return out


def roi_from_keypoints(
    p0: np.ndarray, p1: np.ndarray, box: tuple[float, float, float, float], scale: float
) -> Roi:
    """MediaPipe's DetectionsToRects + RectTransformation: rotate so p0->p1 is horizontal,
    scale the box by ``scale`` and make it square on its long side."""
    angle = _normalize_angle(math.atan2(float(p1[1] - p0[1]), float(p1[0] - p0[0])))
    x0, y0, x1, y1 = box
    size = max(x1 - x0, y1 - y0) * scale
    return Roi((x0 + x1) / 2, (y0 + y1) / 2, size, angle)


def _normalize_angle(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))
