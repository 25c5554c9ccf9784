"""The head region's pixels on the CPU: ONNX Runtime upsamples and paints, OpenCV samples.

On a GPU the whole per-pixel step is one graph (``graph.build_warp_model``). On the CPU its
GridSample is the bottleneck: at 3840x2160 it took 77 of the graph's 108 ms per frame, and
OpenCV's ``remap`` samples the same bilinear way in about 10 ms. So on the CPU the same grid
upsampling runs as a graph of its own (``graph.build_grid_model``), ``cv2.remap`` samples
the photo, and the face box is painted by the same painting nodes
(``graph.build_paint_model``). The frames match the single graph's to within remap's
1/32-pixel sampling positions: a level or two at sharp edges
(``tests/test_render_sampling.py``).
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from ..runtime.sessions import Runtime
from .graph import build_grid_model, build_paint_model
from .overlays import Overlay

SAMPLERS = ("auto", "graph", "opencv")


def uses_opencv(sampler: str, runtime: Runtime) -> bool:
    """Whether to sample with OpenCV: "auto" does when ONNX Runtime would run on the CPU."""
    if sampler not in SAMPLERS:
        raise ValueError(f"unknown sampler {sampler!r}")
    if sampler != "auto":
        return sampler == "opencv"
    return runtime.providers()[0][0] == "CPUExecutionProvider"


def _hwc_uint8(chw: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(chw.transpose(1, 2, 0)), 0, 255).astype(np.uint8)


class OpenCvRegion:
    """Samples and paints one head region per frame (the CPU path)."""

    def __init__(
        self,
        runtime: Runtime,
        size: tuple[int, int],
        box: tuple[int, int, int, int],
        texture: np.ndarray,
    ):
        w, h = size
        x0, y0, x1, y1 = box
        self.box = box
        self.grid = runtime.session(build_grid_model(h, w), name=f"builtin/grid_{w}x{h}")
        self.paint = runtime.session(build_paint_model(), name="builtin/paint")
        self.texture = np.ascontiguousarray(_hwc_uint8(texture[0]))  # [H', W', 3] uint8

    def update(self, texture: np.ndarray, boxes: Iterable[tuple[int, int, int, int]]) -> None:
        """Copy the parts of the float texture ([1, 3, H', W']) that changed this frame
        (the eye patches with their moved irises)."""
        for x0, y0, x1, y1 in boxes:
            self.texture[y0:y1, x0:x1] = _hwc_uint8(texture[0, :, y0:y1, x0:x1])

    def run(self, grid: np.ndarray, overlay: Overlay, palette: np.ndarray) -> np.ndarray:
        """uint8 [h, w, 3] region for a coarse backward ``grid`` ([gh, gw, 2], texture pixel
        indices, inside the texture) and this frame's overlay masks (over the face box) and
        palette. Only the boxes the masks were drawn in are painted: at 3840x2160 painting
        the whole face box cost more than sampling the region."""
        coarse = np.ascontiguousarray(grid.transpose(2, 0, 1)[None], np.float32)
        fine = self.grid.run(None, {"grid": coarse})[0][0]
        # The stub wants a second map; OpenCV takes None beside a two-channel float map.
        region = cv2.remap(  # type: ignore[call-overload]
            self.texture, fine, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        fx, fy = self.box[:2]
        for x0, y0, x1, y1 in overlay.drawn():
            part = region[fy + y0 : fy + y1, fx + x0 : fx + x1]
            feeds = {
                "face_hwc": np.ascontiguousarray(part),
                "overlay": np.ascontiguousarray(overlay.masks[:, :, y0:y1, x0:x1]),
                "palette": palette,
            }
            part[...] = self.paint.run(None, feeds)[0]
        return region
