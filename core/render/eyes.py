"""Gaze: the irises move inside the photo's own eye openings, showing sclera behind them.

At set-up each eye is split into two layers: the eye without its iris (the iris inpainted
with the surrounding sclera) and the iris as a disc (its hidden top, under the lid, is
completed from the opposite side of the disc). Per frame a small ONNX graph, both eyes in
one batch, slides the discs by the gaze shift and lays them back into the opening. The
result replaces the eye patches of the photo that the warp then samples, so blinks and
head pose apply on top.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper

from ..face import regions as fr
from ..face.source import SourceFace
from ..runtime.sessions import Runtime

# Eye openings as closed outlines: corner, upper lid, other corner, lower lid back.
OPENINGS = (
    (33, *fr.RIGHT_EYE_UPPER, 133, *fr.RIGHT_EYE_LOWER[::-1]),
    (263, *fr.LEFT_EYE_UPPER, 362, *fr.LEFT_EYE_LOWER[::-1]),
)
MAX_SHIFT_EYE_WIDTHS = 0.5
FADE_IN_PX = 1.0  # the moved iris fades in over the first pixel of gaze shift


@lru_cache(maxsize=8)
def build_iris_model(height: int, width: int) -> bytes:
    """[2, 3, h, w] eyes without iris + [2, 4, h, w] iris discs (RGB, alpha) moved by a
    sampling grid and kept inside the opening mask, faded in from the photo's own eye
    patches by ``mix`` -> [2, 3, h, w]."""
    f32 = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("base", f32, [2, 3, height, width]),
        helper.make_tensor_value_info("iris", f32, [2, 4, height, width]),
        helper.make_tensor_value_info("opening", f32, [2, 1, height, width]),
        helper.make_tensor_value_info("grid", f32, [2, height, width, 2]),
        helper.make_tensor_value_info("photo", f32, [2, 3, height, width]),
        helper.make_tensor_value_info("mix", f32, [2, 1, 1, 1]),
    ]
    output = helper.make_tensor_value_info("eyes", f32, [2, 3, height, width])
    split = helper.make_tensor("split", TensorProto.INT64, [2], [3, 1])
    nodes = [
        helper.make_node(
            "GridSample",
            ["iris", "grid"],
            ["moved"],
            mode="bilinear",
            padding_mode="zeros",
            align_corners=0,
        ),
        helper.make_node("Split", ["moved", "split"], ["rgb", "alpha"], axis=1),
        helper.make_node("Mul", ["alpha", "opening"], ["cover"]),
        helper.make_node("Sub", ["rgb", "base"], ["diff"]),
        helper.make_node("Mul", ["cover", "diff"], ["step"]),
        helper.make_node("Add", ["base", "step"], ["moved_eyes"]),
        # Small shifts fade in from the untouched photo, so gaze starts without a jump.
        helper.make_node("Sub", ["moved_eyes", "photo"], ["change"]),
        helper.make_node("Mul", ["mix", "change"], ["faded"]),
        helper.make_node("Add", ["photo", "faded"], ["eyes"]),
    ]
    graph = helper.make_graph(nodes, "vasa_iris", inputs, [output], initializer=[split])
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="vasa-blender"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


class IrisLayer:
    """Per portrait: the eye patches' layers; ``apply`` writes moved irises into a crop."""

    def __init__(
        self,
        image: np.ndarray,
        face: SourceFace,
        origin: np.ndarray,
        crop_size: tuple[int, int],
        runtime: Runtime,
        texture: np.ndarray,
    ):
        lm = face.landmarks[:, :2].astype(np.float64)
        self.boxes, layers = [], []
        self.eye_width = []
        for e, ring in enumerate(OPENINGS):
            outline = lm[list(ring)]
            centre = face.iris[e, 0, :2].astype(np.float64)
            radius = float(np.linalg.norm(face.iris[e, 1:, :2] - centre, axis=1).mean())
            eye_w = float(np.linalg.norm(lm[ring[0]] - lm[ring[len(fr.RIGHT_EYE_UPPER) + 1]]))
            self.eye_width.append(eye_w)
            pad = radius + MAX_SHIFT_EYE_WIDTHS * eye_w + 3
            lo = np.floor(np.minimum(outline.min(0), centre - radius) - pad).astype(int)
            hi = np.ceil(np.maximum(outline.max(0), centre + radius) + pad).astype(int)
            layers.append((outline, centre, radius, lo, hi))
        # One patch size for both eyes, so they run as one batch.
        size = np.max([hi - lo for *_, lo, hi in layers], axis=0)
        w, h = crop_size
        self.ok = True
        base = np.zeros((2, 3, size[1], size[0]), np.float32)
        iris = np.zeros((2, 4, size[1], size[0]), np.float32)
        opening = np.zeros((2, 1, size[1], size[0]), np.float32)
        for e, (outline, centre, radius, lo, _) in enumerate(layers):
            x0, y0 = (lo - origin).astype(int)
            x1, y1 = x0 + size[0], y0 + size[1]
            if x0 < 0 or y0 < 0 or x1 > w or y1 > h or radius < 1.0:
                self.ok = False  # an eye at the region's edge: gaze stays off
                return
            self.boxes.append((x0, y0, x1, y1))
            x0i, y0i = x0 + int(origin[0]), y0 + int(origin[1])
            patch = image[y0i : y0i + size[1], x0i : x0i + size[0]]
            b, i, o = self._layers(patch, outline - [x0i, y0i], centre - [x0i, y0i], radius)
            base[e], iris[e], opening[e] = b, i, o
        self.base, self.iris, self.opening = base, iris, opening
        self.texture = texture  # [1, 3, H, W] the warp's source, eye patches rewritten
        self.originals = [texture[0, :, y0:y1, x0:x1].copy() for x0, y0, x1, y1 in self.boxes]
        self.photo = np.ascontiguousarray(np.stack(self.originals))
        self.size = (int(size[0]), int(size[1]))
        ys, xs = np.mgrid[0 : size[1], 0 : size[0]].astype(np.float32) + 0.5
        self.pixels = np.stack([xs, ys], -1)  # [h, w, 2] pixel centres
        self.session = runtime.session(
            build_iris_model(self.size[1], self.size[0]),
            name=f"builtin/iris_{self.size[0]}x{self.size[1]}",
        )

    @staticmethod
    def _layers(
        patch: np.ndarray, outline: np.ndarray, centre: np.ndarray, radius: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h, w = patch.shape[:2]
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round(outline * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
        opening = cv2.GaussianBlur(inside.astype(np.float32) / 255, (0, 0), 0.6)
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32) + 0.5
        dist = np.hypot(xs - centre[0], ys - centre[1])
        disc = np.clip((radius * 1.04 - dist) / 1.2 + 0.5, 0.0, 1.0)
        # The eye without its iris: the disc (a little larger) filled with the sclera's
        # colour (the brighter half of the visible white), shaded under the upper lid.
        hole = dist <= radius * 1.06 + 0.8
        white = (inside > 127) & ~hole
        pixels = patch[white] if white.sum() >= 4 else patch[inside > 127]
        if len(pixels) == 0:
            pixels = patch.reshape(-1, 3)
        luma = pixels @ np.array([0.299, 0.587, 0.114])
        bright = pixels[luma >= np.percentile(luma, 75)].mean(0)
        sclera = 0.5 * bright + 0.5 * bright.mean() * 1.05  # the white is nearly grey
        top = outline[:, 1].min()
        shade = np.clip((ys - top) / max(2.0 * radius, 1.0), 0.0, 1.0)[..., None]
        fill = sclera * (0.78 + 0.22 * shade)
        # Along each row, bridge the hole from the white on either side of it, so the
        # white keeps its shading; rows with no white beside the iris keep the flat fill.
        patch_luma = patch.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        known = white & (patch_luma >= np.median(luma))  # the white, not lashes or shadow
        for y in range(h):
            xs_known = np.flatnonzero(known[y])
            if len(xs_known) >= 2 and xs_known.min() < centre[0] < xs_known.max():
                for c in range(3):
                    fill[y, :, c] = np.interp(
                        np.arange(w), xs_known, patch[y, xs_known, c].astype(np.float64)
                    )
        fill = cv2.GaussianBlur(
            fill.astype(np.float32), (0, 0), sigmaX=0.3 * radius + 0.5, sigmaY=0.5 * radius + 0.5
        )
        soft = (
            cv2.GaussianBlur(hole.astype(np.float32), (0, 0), 0.8)[..., None] * opening[..., None]
        )
        base = patch * (1 - soft) + fill * soft
        # The iris: pixels the lids hide come from the opposite side of the disc.
        visible = inside > 127
        mx = np.clip(np.round(2 * centre[0] - xs - 0.5).astype(int), 0, w - 1)
        my = np.clip(np.round(2 * centre[1] - ys - 0.5).astype(int), 0, h - 1)
        in_disc = visible & (dist <= radius)
        mean = patch[in_disc].mean(0) if in_disc.any() else patch.reshape(-1, 3).mean(0)
        rgb = patch.astype(np.float32)
        mirrored = np.where(visible[my, mx, None], patch[my, mx], mean)
        rgb = np.where(visible[..., None], rgb, mirrored)
        iris = np.concatenate([rgb.transpose(2, 0, 1), disc[None]], 0)
        return base.transpose(2, 0, 1).astype(np.float32), iris, opening[None]

    def apply(self, shift: np.ndarray) -> None:
        """Write both eyes, irises moved by ``shift`` ([2, 2] pixels), into the texture."""
        if not self.ok:
            return
        if not np.any(np.abs(shift) > 0.05):
            for (x0, y0, x1, y1), patch in zip(self.boxes, self.originals, strict=True):
                self.texture[0, :, y0:y1, x0:x1] = patch
            return
        w, h = self.size
        src = self.pixels[None] - shift[:, None, None, :].astype(np.float32)
        grid = src / np.array([w / 2, h / 2], np.float32) - 1.0  # align_corners=0
        mix = np.clip(np.abs(shift).max(1) / FADE_IN_PX, 0.0, 1.0).astype(np.float32)
        eyes = self.session.run(
            None,
            {
                "base": self.base,
                "iris": self.iris,
                "opening": self.opening,
                "grid": np.ascontiguousarray(grid),
                "photo": self.photo,
                "mix": mix.reshape(2, 1, 1, 1),
            },
        )[0]
        for e, (x0, y0, x1, y1) in enumerate(self.boxes):
            self.texture[0, :, y0:y1, x0:x1] = eyes[e]
