"""The built-in warp renderer: portrait + one MotionTrack frame -> a full-resolution frame.

Only a rectangle around the head moves. Per frame, on a coarse grid over it: the
expression's control points (``deform``) give a thin-plate-spline field (``tps``), the
jaw adds its step, and the head's pose moves every grid point in 2.5-D (depth from the
landmarks) as far as the head weight says; a few fixed-point steps invert that into a
backward grid. The irises are moved in the photo (``eyes``), the mouth's inside and the
closing lids are painted as masks (``mouth``, ``eyes``, into ``overlays``), and one ONNX
graph (``graph``) samples, paints and returns the rectangle. Everything outside it is the
photo, untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cv2
import numpy as np

from ..face import regions as fr
from ..face.source import SourceFace
from ..runtime.sessions import Runtime, default_runtime
from ..stages import Renderer
from .deform import Deformer
from .eyes import IrisLayer, paint_lid
from .graph import PALETTE, build_warp_model
from .head import restore_depth
from .interior import paint_mouth
from .mouth import close_share
from .overlays import Overlay
from .sampling import OpenCvRegion, uses_opencv
from .tones import PhotoTeeth, find_photo_teeth, mouth_tones
from .tps import CoarseTps

# Extra room around the head's reach (head.HEAD_FALLOFF), in face widths, for the edge fade.
REGION_MARGIN = 0.08
MAX_GRID = 96  # coarse grid points per side at most
MIN_CELL = 4.0  # pixels per coarse cell at least
# The warp's source texture reaches this far past the region: where the region ends at the
# picture's edge, EDGE_MARGIN face widths (at most EDGE_MARGIN_MAX pixels); elsewhere
# INNER_MARGIN pixels.
EDGE_MARGIN = 0.3
EDGE_MARGIN_MAX = 384
INNER_MARGIN = 2
# Depth is smoothed over this share of the face width (see ``WarpRenderer``).
DEPTH_SMOOTH = 0.15
# The painted box: the landmarks' box grown by these shares of face width / height, and
# the jaw's full drop below.
FACE_BOX_PAD = (0.3, 0.2)
JAW_ROOM = 0.15
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
    pts = np.concatenate([deformer.head_extent(), deformer.source[deformer.n_face :, :2]])
    pad = REGION_MARGIN * deformer.fw
    x0 = int(max(0, np.floor(pts[:, 0].min() - pad)))
    x1 = int(min(w, np.ceil(pts[:, 0].max() + pad)))
    y0 = int(max(0, np.floor(pts[:, 1].min() - pad)))
    y1 = int(min(h, np.ceil(pts[:, 1].max() + pad)))
    return Region(x0, y0, x1, y1)


def texture_margins(
    region: Region, image_size: tuple[int, int], fw: float
) -> tuple[int, int, int, int]:
    """Extra texture (left, top, right, bottom) around the region: a few real pixels where
    the region ends inside the picture (the warp fades out there), more where it ends at
    the picture's edge (the head may move away from it)."""
    w, h = image_size
    edge = int(min(np.ceil(EDGE_MARGIN * fw), EDGE_MARGIN_MAX)) + 2
    return (
        INNER_MARGIN if region.x0 > 0 else edge,
        INNER_MARGIN if region.y0 > 0 else edge,
        INNER_MARGIN if region.x1 < w else edge,
        INNER_MARGIN if region.y1 < h else edge,
    )


def padded_crop(
    image: np.ndarray, region: Region, margins: tuple[int, int, int, int]
) -> np.ndarray:
    """The region of the photo with ``margins`` (left, top, right, bottom) more pixels;
    past the picture's edge the photo is mirrored."""
    h, w = image.shape[:2]
    left, top, right, bottom = margins
    x0, y0, x1, y1 = region.x0 - left, region.y0 - top, region.x1 + right, region.y1 + bottom
    inner = image[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)]
    pads = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    if any(pads):
        inner = cv2.copyMakeBorder(inner, *pads, cv2.BORDER_REFLECT)
    return inner


def face_box(deformer: Deformer, region: Region) -> tuple[int, int, int, int]:
    """Where in the region the mouth and eyes can be painted, whatever the pose: the
    landmarks' box with room for turns, shifts and the jaw's drop (x0, y0, x1, y1)."""
    lm = deformer.face.landmarks[:, :2]
    pad_x, pad_y = FACE_BOX_PAD[0] * deformer.fw, FACE_BOX_PAD[1] * deformer.fh
    w, h = region.size
    x0 = int(np.clip(np.floor(lm[:, 0].min() - pad_x) - region.x0, 0, w - 1))
    x1 = int(np.clip(np.ceil(lm[:, 0].max() + pad_x) - region.x0, x0 + 1, w))
    y0 = int(np.clip(np.floor(lm[:, 1].min() - pad_y) - region.y0, 0, h - 1))
    y1 = int(
        np.clip(np.ceil(lm[:, 1].max() + pad_y + JAW_ROOM * deformer.fh) - region.y0, y0 + 1, h)
    )
    return x0, y0, x1, y1


def _sample(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """RGB float [N, 3] of the photo at [N, 2] pixel positions (nearest pixel)."""
    h, w = image.shape[:2]
    xs = np.clip(points[:, 0].astype(int), 0, w - 1)
    ys = np.clip(points[:, 1].astype(int), 0, h - 1)
    return image[ys, xs].astype(np.float32)


def portrait_palette(
    image: np.ndarray, face: SourceFace, teeth: PhotoTeeth | None = None
) -> np.ndarray:
    """[1, 3, 5] colours of the painted parts (``graph.PALETTE``), from this portrait:
    the mouth's inside in its own light and shadow (``tones.mouth_tones``), the eyelids
    from the skin under its brows, lashes from its darkest lid line."""
    lm = face.landmarks[:, :2].astype(np.float64)
    lid_pts, lash_pts = [], []
    for upper, _, crease in fr.EYES:
        u, c = lm[list(upper)], lm[list(crease)]
        lid_pts += [u + t * (c - u) for t in (1.0, 1.3, 1.6)]  # skin above the lashes
        lash_pts.append(u)
    lid_rgb = _sample(image, np.concatenate(lid_pts))
    lid = lid_rgb[np.argsort(lid_rgb.sum(1))[len(lid_rgb) // 2 :]].mean(0) * 0.97
    lash_rgb = _sample(image, np.concatenate(lash_pts))
    lash = lash_rgb[np.argsort(lash_rgb.sum(1))[: max(1, len(lash_rgb) // 4)]].mean(0) * 0.7
    colours = {
        **mouth_tones(image, face.landmarks, teeth or PhotoTeeth.none()),
        "lid": lid,
        "lash": lash,
    }
    return np.stack([colours[k] for k in PALETTE], 1)[None].astype(np.float32)


def _border_points(w: int, h: int, count: int) -> np.ndarray:
    t = np.linspace(0, 1, count, endpoint=False)
    edges = [
        np.stack([t * w, np.zeros_like(t)], 1),
        np.stack([np.full_like(t, w), t * h], 1),
        np.stack([(1 - t) * w, np.full_like(t, h)], 1),
        np.stack([np.zeros_like(t), (1 - t) * h], 1),
    ]
    return np.concatenate(edges)


class WarpRenderer(Renderer):
    """Renders frames of one portrait; create once per take, call ``render`` per frame."""

    def __init__(
        self,
        image: np.ndarray,
        face: SourceFace,
        runtime: Runtime | None = None,
        sampler: str = "auto",
    ):
        """``sampler``: "graph" samples in the ONNX graph, "opencv" with OpenCV on the CPU
        (``sampling``), "auto" with OpenCV when ONNX Runtime runs on the CPU."""
        self.image = image
        self.face = face
        # A photo that shows teeth keeps them (they stay with their lip, lend their colour).
        self.photo_teeth = find_photo_teeth(image, face.landmarks)
        self.deformer = Deformer(face, self.photo_teeth)
        self.region = head_region(face, self.deformer)
        w, h = self.region.size
        self.origin = np.array([self.region.x0, self.region.y0], np.float64)
        anchors = _border_points(w, h, BORDER_ANCHORS)
        self.n_moving = len(self.deformer.source)
        points = np.concatenate([self.deformer.source[:, :2] - self.origin, anchors])
        cell = max(MIN_CELL, max(w, h) / MAX_GRID)
        # Odd sizes: the smooth spline is evaluated on every other point (``tps``).
        grid = (int(np.ceil(h / cell)) // 2 * 2 + 1, int(np.ceil(w / cell)) // 2 * 2 + 1)
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
        grid_z = np.clip(
            self.tps.interpolate(depth - d.outline_z)[..., 0] + d.outline_z, *d.depth_range
        )
        # The face's sides fall away steeply in depth; a turn would fold the cheek over
        # itself there. Smoothed depth keeps the warp one-to-one.
        cell_px = float(self.tps.grid[0, 1, 0] - self.tps.grid[0, 0, 0])
        smoothed = cv2.GaussianBlur(
            grid_z.astype(np.float32),
            (0, 0),
            DEPTH_SMOOTH * d.fw / cell_px,
            borderType=cv2.BORDER_REPLICATE,
        )
        # Smoothing flattens the face; its depth's extent at the landmarks is given back,
        # so a turn is drawn at the angle asked for (``head.restore_depth``).
        at = self._grid_values(smoothed, d.source[: d.n_landmarks, :2])
        self.grid_z = restore_depth(smoothed, at, d.source[: d.n_landmarks, 2])
        self.grid_weight = self.deformer.head_weight(self.grid_xy) * self.tps.window
        self.grid_jaw = self.deformer.jaw_share(self.grid_xy)
        runtime = runtime or default_runtime()
        self.face_box = face_box(self.deformer, self.region)
        # The photo around the region with margins (mirrored past the picture's edge): the
        # warp samples it with GridSample's zero padding, its fast path, and the sampling
        # grid is clamped inside it.
        margins = texture_margins(self.region, face.image_size, self.deformer.fw)
        texture = padded_crop(image, self.region, margins)
        self.margin = np.array(margins[:2], np.float32)  # texture pixels left of / above
        th, tw = texture.shape[:2]
        self.source_chw = np.ascontiguousarray(texture.transpose(2, 0, 1)[None], np.float32)
        self.opencv: OpenCvRegion | None = None
        if uses_opencv(sampler, runtime):
            self.opencv = OpenCvRegion(runtime, (w, h), self.face_box, self.source_chw)
        else:
            self.session = runtime.session(
                build_warp_model(h, w, self.face_box, (th, tw)), name=f"builtin/warp_{w}x{h}"
            )
        self.crop_chw = self.source_chw  # holds this frame's irises (``IrisLayer``)
        bx0, by0, bx1, by1 = self.face_box
        self.overlay = Overlay(bx1 - bx0, by1 - by0)
        self.overlay_origin = self.origin + [bx0, by0]  # image pixels of the masks' corner
        self.palette = portrait_palette(image, face, self.photo_teeth)
        self.irises = IrisLayer(
            image, face, self.origin - self.margin, (tw, th), runtime, self.source_chw
        )
        # Normalisation to GridSample units (no align_corners: -1..1 spans the texture's
        # outer edges).
        self.to_unit = np.array([2.0 / tw, 2.0 / th], np.float32)
        self.texture_size = np.array([tw, th], np.float32)

    def _grid_values(self, values: np.ndarray, xy: np.ndarray) -> np.ndarray:
        """[n] bilinear samples of a [gh, gw] grid array at image points [n, 2]."""
        gh, gw = self.tps.grid_shape
        w, h = self.region.size
        to_index = np.array([(gw - 1) / max(w - 1, 1e-9), (gh - 1) / max(h - 1, 1e-9)])
        idx = ((xy - self.origin - 0.5) * to_index).astype(np.float32)[:, None, :]
        out = cv2.remap(
            values, idx[..., 0], idx[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return out[:, 0].astype(np.float64)

    @property
    def image_size(self) -> tuple[int, int]:
        return self.face.image_size

    @property
    def changing_box(self) -> tuple[int, int, int, int]:
        """Only the head region differs from the photo."""
        r = self.region
        return r.x0, r.y0, r.x1, r.y1

    def overlay_region(self) -> np.ndarray:
        """[5, H, W] this frame's overlay masks over the whole region (for checks)."""
        w, h = self.region.size
        out = np.zeros((self.overlay.masks.shape[1], h, w), np.float32)
        bx0, by0, bx1, by1 = self.face_box
        out[:, by0:by1, bx0:bx1] = self.overlay.masks[0]
        return out

    @property
    def mask(self) -> np.ndarray:
        """[1, 1, H, W] opacity of the painted mouth interior in this frame."""
        return self.overlay_region()[None, :1]

    def _paint(self, channels: Mapping[str, float]) -> None:
        """This frame's overlay masks: the opened mouth and the closing lids."""
        self.overlay.clear()
        d = self.deformer
        opening = d.mouth_opening(channels)
        if opening is not None:
            top, bottom = (edge - self.overlay_origin for edge in opening)
            paint_mouth(self.overlay, top, bottom, d.teeth(channels))
        for start, edge, eye_opening, blink in d.lid_lines(channels):
            paint_lid(
                self.overlay,
                start - self.overlay_origin,
                edge - self.overlay_origin,
                eye_opening,
                blink,
            )

    def forward_field(self, channels: Mapping[str, float]) -> np.ndarray:
        """[gh, gw, 2] where each grid point of the region moves to (pixels, forward)."""
        d = self.deformer
        expressed = d.expression_targets(channels)
        displacement = np.zeros((self.n_points, 2), np.float32)
        displacement[: self.n_moving] = expressed[:, :2] - d.source[:, :2]
        # The jaw's drop parts the lips: a step the smooth spline cannot draw, so it is
        # added as its own field (``jaw_share``), not through the control points.
        jaw = d.jaw_vector(channels)
        displacement[: d.n_landmarks] -= d.jaw_weights(channels)[:, None] * jaw
        field = self.tps.forward(displacement).astype(np.float64)
        if np.any(jaw):
            close = close_share(channels)
            share = self.grid_jaw if close == 0.0 else d.jaw_share(self.grid_xy, close)
            field += (share * self.tps.window)[..., None] * jaw
        pose = d.pose(channels)
        if pose.is_identity:
            return field.astype(np.float32)
        moved = self.grid_xy + field
        posed = pose.apply(np.concatenate([moved, self.grid_z[..., None]], -1))
        field += self.grid_weight[..., None] * (posed - moved)
        return field.astype(np.float32)

    def render_region(self, channels: Mapping[str, float]) -> np.ndarray:
        """The moving rectangle only, uint8 [h, w, 3]."""
        backward = self.tps.invert(self.forward_field(channels))
        inside = np.clip(backward + self.margin, 0.5, self.texture_size - 0.5)
        self._paint(channels)
        self.irises.apply(self.deformer.gaze_shift(channels))
        if self.opencv is not None:
            self.opencv.update(self.crop_chw, self.irises.boxes if self.irises.ok else ())
            return self.opencv.run(inside - 0.5, self.overlay, self.palette)
        grid = inside * self.to_unit - 1.0
        feeds = {
            "image": self.crop_chw,
            "grid": np.ascontiguousarray(grid.transpose(2, 0, 1)[None]),
            "overlay": self.overlay.masks,
            "palette": self.palette,
        }
        return self.session.run(None, feeds)[0]

    def render(self, channels: Mapping[str, float]) -> np.ndarray:
        """A full frame (RGB uint8, the photo's size) for one frame's channel values."""
        frame = self.image.copy()
        r = self.region
        frame[r.y0 : r.y1, r.x0 : r.x1] = self.render_region(channels)
        return frame
