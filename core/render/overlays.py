"""Masks that the warp graph paints over the sampled photo: the mouth and the closing lids.

A warp can only move the photo's pixels; what the photo never showed (the inside of an
opened mouth, an eyelid closed over the eye) is painted. This module rasterises the
outlines, already moved and posed, into soft masks in the head region (a few small
patches, redrawn per frame); the graph (``warp_graph``) mixes the palette colours through
them. Channels: see ``warp_graph.OVERLAYS``.
"""

from __future__ import annotations

import cv2
import numpy as np

from .graph import OVERLAYS

MOUTH, TEETH, THROAT, LID, LASH = range(len(OVERLAYS))
SUBPIXEL = 4  # fillPoly's fractional bits
# Upper teeth from the middle outwards, in half mouth widths, and how dark the gaps are.
TOOTH_WIDTHS = (0.2, 0.15, 0.14, 0.13, 0.12)
TOOTH_GAP = 0.25
LID_SHADE = 0.22  # how far a closed lid darkens towards the lash colour at its crease


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


class Overlay:
    """The [1, 5, H, W] mask buffer of one head region; cleared where it was drawn."""

    def __init__(self, width: int, height: int):
        self.size = (width, height)
        self.masks = np.zeros((1, len(OVERLAYS), height, width), np.float32)
        self._dirty: list[tuple[int, int, int, int]] = []

    def clear(self) -> None:
        for x0, y0, x1, y1 in self._dirty:
            self.masks[0, :, y0:y1, x0:x1] = 0.0
        self._dirty.clear()

    def _box(self, pts: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
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
    def _fill(
        shape: tuple[int, int], polys: list[np.ndarray], origin: tuple[int, int], blur: float
    ) -> np.ndarray:
        patch = np.zeros(shape, np.uint8)
        pts = [
            np.round((p - [origin[0] - 0.5, origin[1] - 0.5]) * (1 << SUBPIXEL)).astype(np.int32)
            for p in polys
        ]
        cv2.fillPoly(patch, pts, 255, lineType=cv2.LINE_AA, shift=SUBPIXEL)
        out = patch.astype(np.float32) / 255.0
        return cv2.GaussianBlur(out, (0, 0), blur) if blur > 0 else out

    def mouth(self, top: np.ndarray, bottom: np.ndarray, teeth_height: float) -> None:
        """Paint the opened gap between ``top`` and ``bottom`` edges ([K, 2], left to right).

        The interior darkens towards a throat in the middle; a band of upper teeth hangs
        from the upper lip, fading towards the corners; edges are soft so it blends into
        the lips.
        """
        outline = np.concatenate([top, bottom[::-1]])
        width = float(np.linalg.norm(top[-1] - top[0]))
        blur = max(0.6, 0.012 * width)
        box = self._box(outline, int(np.ceil(3 * blur)) + 1)
        if box is None:
            return
        x0, y0, x1, y1 = box
        shape = (y1 - y0, x1 - x0)
        alpha = self._fill(shape, [outline], (x0, y0), blur)
        # Throat: depth from the outline, deepest in the middle of the opening.
        hard = (self._fill(shape, [outline], (x0, y0), 0) > 0.5).astype(np.uint8)
        dist = cv2.distanceTransform(hard, cv2.DIST_L2, 3)
        depth = _smoothstep(dist / max(float(dist.max()), 1.0))
        # Upper teeth: from the upper lip down by teeth_height (capped by the opening),
        # tapering to nothing at the corners.
        gap = bottom - top
        length = np.maximum(np.linalg.norm(gap, axis=1), 1e-6)
        k = len(top)
        along = np.abs(np.linspace(-1.0, 1.0, k))
        reach = np.minimum(teeth_height, 0.45 * length) * np.sqrt(np.clip(1 - along**2, 0, 1))
        teeth_edge = top + gap / length[:, None] * reach[:, None]
        teeth = self._fill(
            shape, [np.concatenate([top, teeth_edge[::-1]])], (x0, y0), max(0.5, 0.6 * blur)
        )
        # Teeth further back (towards the corners) are in shadow; faint gaps between them
        # (the two front teeth widest); their biting edges are translucent.
        xs = (np.arange(x0, x1) + 0.5 - (top[0, 0] + top[-1, 0]) / 2) / max(width / 2, 1.0)
        ax = np.abs(xs)
        edges = np.concatenate([[0.0], np.cumsum(TOOTH_WIDTHS)])
        nearest = np.min(np.abs(ax[:, None] - edges[None, :]), axis=1) * width / 2
        gaps = 1.0 - TOOTH_GAP * np.exp(-((nearest / max(0.6, 0.01 * width)) ** 2))
        teeth *= ((1.0 - 0.6 * np.clip(ax, 0, 1) ** 2) * gaps)[None, :]
        ys = np.arange(y0, y1)[:, None] + 0.5
        mid_top = float(np.interp(0.0, np.linspace(-1, 1, k), top[:, 1]))
        fall = np.clip((ys - mid_top) / max(teeth_height, 1.0), 0.0, 1.0)
        teeth *= 1.0 - 0.3 * fall**2
        m = self.masks[0]
        m[MOUTH, y0:y1, x0:x1] = np.maximum(m[MOUTH, y0:y1, x0:x1], alpha)
        m[TEETH, y0:y1, x0:x1] = teeth
        m[THROAT, y0:y1, x0:x1] = 0.85 * depth * (1.0 - teeth)

    def lid(
        self, upper: np.ndarray, edge: np.ndarray, lash_width: float, strength: float = 1.0
    ) -> None:
        """Paint an eyelid from the open lid line ``upper`` down to ``edge`` ([K, 2]).

        Lid skin, darkening into a line of lashes along the edge; ``strength`` (0..1)
        fades it in as a blink starts.
        """
        outline = np.concatenate([upper, edge[::-1]])
        box = self._box(outline, 3)
        if box is None:
            return
        x0, y0, x1, y1 = box
        shape = (y1 - y0, x1 - x0)
        alpha = self._fill(shape, [outline], (x0, y0), 0.6) * strength
        drop = edge - upper
        norm = np.maximum(np.linalg.norm(drop, axis=1, keepdims=True), 1e-6)
        inner = edge - drop / norm * np.minimum(norm, lash_width)
        lash = self._fill(shape, [np.concatenate([inner, edge[::-1]])], (x0, y0), 0.7)
        # The lid is rounded: shadowed under the brow's crease and towards the lashes.
        xs = np.arange(x0, x1) + 0.5
        order = np.argsort(upper[:, 0])
        top = np.interp(xs, upper[order, 0], upper[order, 1])
        bottom = np.interp(xs, edge[order, 0], edge[order, 1])
        rel = (np.arange(y0, y1)[:, None] + 0.5 - top) / np.maximum(bottom - top, 1.0)
        shadow = LID_SHADE * (1.0 - _smoothstep(rel / 0.4)) + LID_SHADE * _smoothstep(
            (rel - 0.6) / 0.4
        )
        lash = np.maximum(lash, shadow.astype(np.float32))
        m = self.masks[0]
        m[LID, y0:y1, x0:x1] = np.maximum(m[LID, y0:y1, x0:x1], alpha)
        m[LASH, y0:y1, x0:x1] = np.maximum(m[LASH, y0:y1, x0:x1], lash)
