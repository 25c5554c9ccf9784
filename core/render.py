"""The built-in warp renderer: portrait + one MotionTrack frame -> a full-resolution frame.

Only a rectangle around the head moves: its control points (``deform``) become a coarse
thin-plate-spline backward grid (``tps``), and the ONNX graph (``warp_graph``) samples the
photo through it and darkens the opened mouth. Everything outside the rectangle is the
photo, untouched.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .deform import Deformer
from .face import SourceFace
from .runtime import Runtime, default_runtime
from .tps import CoarseTps
from .warp_graph import build_warp_model

# Extra room around the head's reach (deform.HEAD_FALLOFF), in face widths, for the edge fade.
REGION_MARGIN = 0.08
MAX_GRID = 96  # coarse grid points per side at most
MIN_CELL = 4.0  # pixels per coarse cell at least
MOUTH_INTERIOR_RGB = (58.0, 18.0, 22.0)
BORDER_ANCHORS = 12  # fixed points per region edge


@dataclass(frozen=True)
class Region:
    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def size(self) -> tuple[int, int]:
        return self.x1 - self.x0, self.y1 - self.y0


def head_region(face: SourceFace, deformer: Deformer) -> Region:
    """The rectangle that can change: the head's reach and the still ring, plus a margin."""
    w, h = face.image_size
    pts = np.concatenate([deformer.head_extent(), deformer.source[deformer.n_face:, :2]])
    pad = REGION_MARGIN * deformer.fw
    x0 = int(max(0, np.floor(pts[:, 0].min() - pad)))
    x1 = int(min(w, np.ceil(pts[:, 0].max() + pad)))
    y0 = int(max(0, np.floor(pts[:, 1].min() - pad)))
    y1 = int(min(h, np.ceil(pts[:, 1].max() + pad)))
    return Region(x0, y0, x1, y1)


def _border_points(w: int, h: int, count: int) -> np.ndarray:
    t = np.linspace(0, 1, count, endpoint=False)
    edges = [np.stack([t * w, np.zeros_like(t)], 1), np.stack([np.full_like(t, w), t * h], 1),
             np.stack([(1 - t) * w, np.full_like(t, h)], 1), np.stack([np.zeros_like(t),
                                                                      (1 - t) * h], 1)]
    return np.concatenate(edges)


class WarpRenderer:
    """Renders frames of one portrait; create once per take, call ``render`` per frame."""

    def __init__(self, image: np.ndarray, face: SourceFace, runtime: Runtime | None = None):
        self.image = image
        self.face = face
        self.deformer = Deformer(face)
        self.region = head_region(face, self.deformer)
        w, h = self.region.size
        self.origin = np.array([self.region.x0, self.region.y0], np.float64)
        anchors = _border_points(w, h, BORDER_ANCHORS)
        self.n_moving = len(self.deformer.source)
        points = np.concatenate([self.deformer.source[:, :2] - self.origin, anchors])
        cell = max(MIN_CELL, max(w, h) / MAX_GRID)
        grid = (int(np.ceil(h / cell)) + 1, int(np.ceil(w / cell)) + 1)
        iw, ih = face.image_size
        r = self.region
        inside = (r.x0 > 0, r.y0 > 0, r.x1 < iw, r.y1 < ih)
        self.tps = CoarseTps(points, (w, h), grid, fade_edges=inside)
        self.n_points = len(points)
        # Per grid point: image position, depth (a spline through the landmarks' depths,
        # the outline's depth elsewhere) and how much of the head's pose it follows.
        self.grid_xy = self.tps.grid.astype(np.float64) + self.origin
        d = self.deformer
        depth = np.full((self.n_points, 1), d.outline_z)
        depth[: self.n_moving, 0] = d.source[:, 2]
        self.grid_z = np.clip(self.tps.interpolate(depth - d.outline_z)[..., 0] + d.outline_z,
                              *d.depth_range)
        self.grid_weight = self.deformer.head_weight(self.grid_xy) * self.tps.window
        runtime = runtime or default_runtime()
        self.session = runtime.session(build_warp_model(h, w), name=f"builtin/warp_{w}x{h}")
        crop = image[self.region.y0:self.region.y1, self.region.x0:self.region.x1]
        self.crop_chw = np.ascontiguousarray(crop.transpose(2, 0, 1)[None], np.float32)
        self.mask = np.zeros((1, 1, h, w), np.float32)
        self._mask_box: tuple[int, int, int, int] | None = None
        self.interior = np.array(MOUTH_INTERIOR_RGB, np.float32).reshape(1, 3, 1, 1)
        # Normalisation to GridSample units (align_corners: -1..1 spans pixel centres).
        self.to_unit = np.array([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], np.float32)

    def _update_mask(self, targets: np.ndarray) -> None:
        """Soft mask of the mouth opening (only where it opened beyond the photo's)."""
        if self._mask_box is not None:
            x0, y0, x1, y1 = self._mask_box
            self.mask[0, 0, y0:y1, x0:x1] = 0.0
            self._mask_box = None
        band = self.deformer.mouth_band(targets)
        if band is None:
            return
        poly = band - self.origin
        w, h = self.region.size
        pad = 4
        x0 = int(max(0, np.floor(poly[:, 0].min()) - pad))
        y0 = int(max(0, np.floor(poly[:, 1].min()) - pad))
        x1 = int(min(w, np.ceil(poly[:, 0].max()) + pad))
        y1 = int(min(h, np.ceil(poly[:, 1].max()) + pad))
        if x1 <= x0 or y1 <= y0:
            return
        patch = np.zeros((y1 - y0, x1 - x0), np.uint8)
        shift = 4  # sub-pixel polygon corners
        pts = np.round((poly - [x0 - 0.5, y0 - 0.5]) * (1 << shift)).astype(np.int32)
        cv2.fillPoly(patch, [pts], 255, lineType=cv2.LINE_AA, shift=shift)
        soft = cv2.GaussianBlur(patch.astype(np.float32) / 255.0, (0, 0), 0.8)
        self.mask[0, 0, y0:y1, x0:x1] = soft
        self._mask_box = (x0, y0, x1, y1)

    def forward_field(self, channels: dict[str, float]) -> np.ndarray:
        """[gh, gw, 2] where each grid point of the region moves to (pixels, forward)."""
        d = self.deformer
        expressed = d.expression_targets(channels)
        displacement = np.zeros((self.n_points, 2), np.float32)
        displacement[: self.n_moving] = expressed[:, :2] - d.source[:, :2]
        field = self.tps.forward(displacement).astype(np.float64)
        pose = d.pose(channels)
        if pose.is_identity:
            return field.astype(np.float32)
        moved = self.grid_xy + field
        posed = pose.apply(np.concatenate([moved, self.grid_z[..., None]], -1))
        field += self.grid_weight[..., None] * (posed - moved)
        return field.astype(np.float32)

    def render_region(self, channels: dict[str, float]) -> np.ndarray:
        """The moving rectangle only, uint8 [h, w, 3]."""
        backward = self.tps.invert(self.forward_field(channels))
        targets = self.deformer.targets(channels)
        grid = (backward - 0.5) * self.to_unit - 1.0
        self._update_mask(targets)
        feeds = {
            "image": self.crop_chw,
            "grid": np.ascontiguousarray(grid.transpose(2, 0, 1)[None]),
            "mask": self.mask,
            "interior": self.interior,
        }
        return self.session.run(None, feeds)[0]

    def render(self, channels: dict[str, float]) -> np.ndarray:
        """A full frame (RGB uint8, the photo's size) for one frame's channel values."""
        frame = self.image.copy()
        r = self.region
        frame[r.y0:r.y1, r.x0:r.x1] = self.render_region(channels)
        return frame
