"""The mask buffer that the warp graph paints through, over the sampled photo.

A warp can only move the photo's pixels; what the photo never showed (the inside of an
opened mouth, an eyelid closed over the eye) is painted. The features draw their outlines,
already moved and posed, as soft masks into one shared ``Overlay`` over the face
(``mouth.paint_mouth``, ``eyes.paint_lid``: a few small patches, redrawn per frame); the
graph (``graph.build_warp_model``) mixes the palette colours through them. This module
owns only the buffer: its channels (``graph.OVERLAYS``), clearing what was drawn, and the
rasterising both painters use.
"""

from __future__ import annotations

import cv2
import numpy as np

from .graph import OVERLAYS

MOUTH, TEETH, THROAT, LID, LASH, TONGUE = range(len(OVERLAYS))
SUBPIXEL = 4  # fillPoly's fractional bits


class Overlay:
    """The [1, 6, H, W] mask buffer of one head region; cleared where it was drawn."""

    def __init__(self, width: int, height: int):
        self.size = (width, height)
        self.masks = np.zeros((1, len(OVERLAYS), height, width), np.float32)
        self._dirty: list[tuple[int, int, int, int]] = []

    def clear(self) -> None:
        for x0, y0, x1, y1 in self._dirty:
            self.masks[0, :, y0:y1, x0:x1] = 0.0
        self._dirty.clear()

    def drawn(self) -> list[tuple[int, int, int, int]]:
        """The boxes drawn in since ``clear``, overlapping ones merged: outside them every
        mask is 0, so painting only these changes nothing else (``sampling``)."""
        boxes = list(self._dirty)
        merged = True
        while merged:
            merged = False
            for i in range(len(boxes)):
                for j in range(i + 1, len(boxes)):
                    a, b = boxes[i], boxes[j]
                    if a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]:
                        boxes[i] = (
                            min(a[0], b[0]),
                            min(a[1], b[1]),
                            max(a[2], b[2]),
                            max(a[3], b[3]),
                        )
                        del boxes[j]
                        merged = True
                        break
                if merged:
                    break
        return boxes

    def box(self, pts: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
        """The box (x0, y0, x1, y1) around ``pts`` grown by ``pad``, inside the buffer, or
        None when it is empty; it is cleared on the next ``clear``."""
        w, h = self.size
        x0 = int(max(0, np.floor(pts[:, 0].min()) - pad))
        y0 = int(max(0, np.floor(pts[:, 1].min()) - pad))
        x1 = int(min(w, np.ceil(pts[:, 0].max()) + pad))
        y1 = int(min(h, np.ceil(pts[:, 1].max()) + pad))
        if x1 <= x0 or y1 <= y0:
            return None
        self._dirty.append((x0, y0, x1, y1))
        return x0, y0, x1, y1

    @staticmethod
    def fill(
        shape: tuple[int, int], polys: list[np.ndarray], origin: tuple[int, int], blur: float
    ) -> np.ndarray:
        """[h, w] float32 coverage (0..1) of ``polys`` in a patch of ``shape`` whose corner
        is at ``origin``, anti-aliased and blurred by ``blur`` pixels."""
        patch = np.zeros(shape, np.uint8)
        pts = [
            np.round((p - [origin[0] - 0.5, origin[1] - 0.5]) * (1 << SUBPIXEL)).astype(np.int32)
            for p in polys
        ]
        # The stub wants a Sequence color; cv2 takes a scalar for a one-channel image.
        cv2.fillPoly(patch, pts, 255, lineType=cv2.LINE_AA, shift=SUBPIXEL)  # type: ignore[call-overload]
        out = patch.astype(np.float32) / 255.0
        return cv2.GaussianBlur(out, (0, 0), blur) if blur > 0 else out
