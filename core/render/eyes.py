"""Everything about the eyes: lids that blink and widen, irises that look around.

Blinks: the skin below the brow follows a closing lid a little (``move_lids``, with
eyeWide lifting the upper lid); the lid itself is not warped over the eye but painted
(``lid_lines`` says where, ``paint_lid`` rasterises it into the shared mask buffer,
``overlays.Overlay``). Gaze: the irises move inside the photo's own eye openings, showing
sclera behind them (``gaze_shift`` says how far, ``IrisLayer`` moves them). So neither
the eye nor the iris is smeared by the warp.

``IrisLayer``: at set-up each eye is split into two layers: the eye without its iris (the
iris inpainted with the surrounding sclera) and the iris as a disc (its hidden top, under
the lid, is completed from the opposite side of the disc). Per frame a small ONNX graph,
both eyes in one batch, slides the discs by the gaze shift and lays them back into the
opening. The result replaces the eye patches of the photo that the warp then samples, so
blinks and head pose apply on top.

Sign conventions (documented in the README): gaze_yaw > 0 looks to the viewer's right,
gaze_pitch > 0 looks up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache

import cv2
import numpy as np
import onnx
from onnx import TensorProto, helper

from ..face import regions as fr
from ..face.source import SourceFace
from ..runtime.sessions import Runtime
from .frame import FaceFrame, smoothstep
from .graph import grid_sample
from .head import HeadPose
from .overlays import LASH, LID, Overlay

WIDE_LIFT = 0.35  # eyeWide lifts the upper lid by this share of the eye opening
# Blink: the painted lid reaches this share of the eye opening and starts a little above
# the lid line (over the photo's lashes); the skin under the brow drops a little with it.
LID_CLOSE = 0.97
LID_OVERLAP = 0.3
CREASE_DROP = 0.18
# Lashes darken this share of the eye opening along a closed lid's edge; a starting
# blink's painted lid fades in up to LID_FADE_IN.
LASH_SHARE = 0.16
LID_FADE_IN = 0.15
LID_SHADE = 0.22  # how far a closed lid darkens towards the lash colour at its crease
# Gaze: how far the iris travels at 90 degrees, in eye widths, across and up/down.
GAZE_REACH = (0.5, 0.3)
BLINKS = ("eyeBlinkRight", "eyeBlinkLeft")  # the channels of fr.EYES, in order


# -- lids --------------------------------------------------------------------------------
def move_lids(ch: Mapping[str, float], up: np.ndarray, disp: np.ndarray) -> None:
    """Add the blinks' and eyeWide's displacement (upright face frame) to ``disp``: the
    skin below the brow follows a closing lid a little; eyeWide lifts the upper lid (and
    the skin above it a little less). ``up``: the landmarks in the face frame."""
    for name, (upper, lower, crease) in zip(BLINKS, fr.EYES, strict=True):
        blink = float(np.clip(ch.get(name, 0.0), 0.0, 1.0))
        gap = up[list(lower), 1] - up[list(upper), 1]
        disp[list(crease), 1] += CREASE_DROP * blink * gap
        wide = float(np.clip(ch.get(name.replace("Blink", "Wide"), 0.0), 0.0, 1.0))
        disp[list(upper), 1] -= WIDE_LIFT * wide * gap
        disp[list(crease), 1] -= 0.6 * WIDE_LIFT * wide * gap


def lid_lines(
    ch: Mapping[str, float], moved: np.ndarray, pose: HeadPose, frame: FaceFrame
) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
    """Per eye with a blink: (open lid line, closed lid's edge, eye opening, blink),
    posed, in image pixels. The lid covers the eye from the first line down to the
    second. ``moved``: the control points [N, 3] after this frame's expression."""
    out = []
    down = frame.axes[1]
    for name, (upper, lower, _) in zip(BLINKS, fr.EYES, strict=True):
        blink = float(np.clip(ch.get(name, 0.0), 0.0, 1.0))
        if blink < 0.02:
            continue
        top, bottom = moved[list(upper)], moved[list(lower)]
        opening = float(np.median((bottom[:, :2] - top[:, :2]) @ down))
        start = top.copy()
        # Cover the photo's lashes, more as the lid comes down (no jump at the start).
        start[:, :2] -= LID_OVERLAP * smoothstep(blink / 0.4) * opening * down
        edge = top + LID_CLOSE * blink * (bottom - top)
        out.append((pose.apply(start), pose.apply(edge), opening * pose.scale, blink))
    return out


def paint_lid(
    overlay: Overlay, upper: np.ndarray, edge: np.ndarray, opening: float, blink: float
) -> None:
    """Paint an eyelid from the open lid line ``upper`` down to ``edge`` ([K, 2], the
    overlay's pixels) into ``overlay``, for an eye ``opening`` pixels high.

    Lid skin, darkening into a line of lashes along the edge; a starting ``blink`` fades
    it in.
    """
    lash_width = max(1.0, LASH_SHARE * opening)
    strength = float(np.clip(blink / LID_FADE_IN, 0.0, 1.0))
    outline = np.concatenate([upper, edge[::-1]])
    box = overlay.box(outline, 3)
    if box is None:
        return
    x0, y0, x1, y1 = box
    shape = (y1 - y0, x1 - x0)
    alpha = overlay.fill(shape, [outline], (x0, y0), 0.6) * strength
    drop = edge - upper
    norm = np.maximum(np.linalg.norm(drop, axis=1, keepdims=True), 1e-6)
    inner = edge - drop / norm * np.minimum(norm, lash_width)
    lash = overlay.fill(shape, [np.concatenate([inner, edge[::-1]])], (x0, y0), 0.7)
    # The lid is rounded: shadowed under the brow's crease and towards the lashes.
    xs = np.arange(x0, x1) + 0.5
    order = np.argsort(upper[:, 0])
    top = np.interp(xs, upper[order, 0], upper[order, 1])
    bottom = np.interp(xs, edge[order, 0], edge[order, 1])
    rel = (np.arange(y0, y1)[:, None] + 0.5 - top) / np.maximum(bottom - top, 1.0)
    shadow = LID_SHADE * (1.0 - smoothstep(rel / 0.4)) + LID_SHADE * smoothstep((rel - 0.6) / 0.4)
    lash = np.maximum(lash, shadow.astype(np.float32))
    m = overlay.masks[0]
    m[LID, y0:y1, x0:x1] = np.maximum(m[LID, y0:y1, x0:x1], alpha)
    m[LASH, y0:y1, x0:x1] = np.maximum(m[LASH, y0:y1, x0:x1], lash)


# -- irises ------------------------------------------------------------------------------
def gaze_shift(ch: Mapping[str, float], up: np.ndarray, frame: FaceFrame) -> np.ndarray:
    """[2, 2] iris shift (image pixels, in the photo) for each eye, subject's right first.
    ``up``: the landmarks in the face frame."""
    gaze = np.array(
        [
            math.sin(math.radians(ch.get("gaze_yaw", 0.0))),
            -math.sin(math.radians(ch.get("gaze_pitch", 0.0))),
        ]
    )
    out = np.zeros((2, 2))
    for e, (upper, _lower, _) in enumerate(fr.EYES):
        eye_w = abs(up[upper[-1], 0] - up[upper[0], 0])
        out[e] = frame.from_face_vec(gaze * np.array(GAZE_REACH) * eye_w)
    return out


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
        grid_sample("iris", "grid", "moved"),
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
        # The stub wants a Sequence color; cv2 takes a scalar for a one-channel image.
        pts = [np.round(outline * 16).astype(np.int32)]
        cv2.fillPoly(inside, pts, 255, cv2.LINE_AA, 4)  # type: ignore[call-overload]
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
