"""A small visible "AI-generated" label in a corner of every frame, away from the face.

Drawn in the portrait's own contrast: its darkest tone on a light corner, its lightest on a
dark one, with a thin outline in the other tone where the corner is neither, so the label
reads on any background without a foreign colour. The label is made once per take (its
opacity mask and colours); each frame costs one blend over the label's few hundred pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

TEXT = "AI-generated"
HEIGHT = 0.028  # text height over the frame's shorter side
MIN_HEIGHT = 9  # pixels: below this Hershey text stops being legible
_FONT = cv2.FONT_HERSHEY_SIMPLEX
_Y = np.array([0.299, 0.587, 0.114])

Box = tuple[int, int, int, int]


def _overlap(a: Box, b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


class Label:
    """The label of one portrait (RGB uint8) whose face is ``face_box`` (x0, y0, x1, y1)."""

    def __init__(self, image: np.ndarray, face_box: tuple[float, float, float, float]):
        h, w = image.shape[:2]
        px = max(MIN_HEIGHT, round(HEIGHT * min(w, h)))
        scale = cv2.getFontScaleFromHeight(_FONT, px, 1)
        thick = max(1, round(px / 10))
        (tw, th), base = cv2.getTextSize(TEXT, _FONT, scale, thick)
        pad = max(2, px // 3)
        lw, lh = tw + 2 * pad, th + base + 2 * pad
        if lw > w or lh > h:
            raise ValueError(f"a {w}x{h} frame is too small for a legible label")
        gap = max(4, round(0.02 * min(w, h)))
        corners: list[Box] = [
            (gap, gap, gap + lw, gap + lh),
            (w - gap - lw, gap, w - gap, gap + lh),
            (gap, h - gap - lh, gap + lw, h - gap),
            (w - gap - lw, h - gap - lh, w - gap, h - gap),
        ]
        fx, fy = (face_box[0] + face_box[2]) / 2, (face_box[1] + face_box[3]) / 2

        def badness(r: Box) -> tuple[float, float]:  # overlap with the face first, then nearness
            cx, cy = (r[0] + r[2]) / 2, (r[1] + r[3]) / 2
            return _overlap(r, face_box), -float(np.hypot(cx - fx, cy - fy))

        self.rect: Box = min(corners, key=badness)
        x0, y0, x1, y1 = self.rect
        lum = image[..., :3].astype(np.float64) @ _Y
        dark = image[lum <= np.percentile(lum, 2)][:, :3].mean(0)
        light = image[lum >= np.percentile(lum, 98)][:, :3].mean(0)
        self.background = float(lum[y0:y1, x0:x1].mean())
        dark_bg = self.background < (dark @ _Y + light @ _Y) / 2
        ink, edge = (light, dark) if dark_bg else (dark, light)
        text = np.zeros((lh, lw), np.uint8)
        cv2.putText(text, TEXT, (pad, pad + th), _FONT, scale, (255,), thick, cv2.LINE_AA)
        outline = cv2.dilate(text, np.ones((3, 3), np.uint8), iterations=max(1, thick // 2))
        self.ink = ink.astype(np.float32)
        self._text = (text.astype(np.float32) / 255)[..., None]
        self._edge = (outline.astype(np.float32) / 255)[..., None]
        self._edge_colour = edge.astype(np.float32)

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        """``frame`` (RGB uint8, the portrait's size) with the label drawn in place."""
        x0, y0, x1, y1 = self.rect
        region = frame[y0:y1, x0:x1, :3].astype(np.float32)
        region += (self._edge_colour - region) * (self._edge * 0.6)  # a soft halo
        region += (self.ink - region) * self._text
        frame[y0:y1, x0:x1, :3] = np.clip(np.rint(region), 0, 255).astype(np.uint8)
        return frame
