"""The renderer's per-frame pixel work as an ONNX graph, built here and run by ONNX Runtime.

Inputs: the head region of the photo with a margin (float32 [1, 3, H', W']), a coarse
backward grid in GridSample's -1..1 units ([1, 2, gh, gw]), overlay masks ([1, 6, h, w]
over the face box: mouth opening, teeth, throat depth, closing eyelid, lash line, tongue;
rasterised from the moved landmarks) and the palette ([1, 3, 6]: mouth interior, throat,
teeth, eyelid skin, lashes, tongue). The graph upsamples the grid (Resize, align_corners), samples
the photo (GridSample, bilinear), paints the mouth interior and the closing lids where the
masks say, and returns uint8 [H, W, 3], so the same model runs on CUDA unchanged.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
OVERLAYS = ("mouth", "teeth", "throat", "lid", "lash", "tongue")
PALETTE = ("interior", "throat", "teeth", "lid", "lash", "tongue")


@lru_cache(maxsize=8)
def build_warp_model(
    height: int,
    width: int,
    box: tuple[int, int, int, int] | None = None,
    texture: tuple[int, int] | None = None,
) -> bytes:
    """Serialized ONNX model for a region of ``height`` x ``width`` pixels.

    ``box`` (x0, y0, x1, y1; default the whole region) is where the face can be: the
    overlay masks cover only it, and only it is painted, then put back into the frame.
    ``texture`` (height, width; default the region's) is the sampled photo's size.
    """
    f32 = TensorProto.FLOAT
    x0, y0, x1, y1 = box or (0, 0, width, height)
    tex_h, tex_w = texture or (height, width)
    inputs = [
        helper.make_tensor_value_info("image", f32, [1, 3, tex_h, tex_w]),
        helper.make_tensor_value_info("grid", f32, [1, 2, None, None]),
        helper.make_tensor_value_info("overlay", f32, [1, len(OVERLAYS), y1 - y0, x1 - x0]),
        helper.make_tensor_value_info("palette", f32, [1, 3, len(PALETTE)]),
    ]
    output = helper.make_tensor_value_info("frame", TensorProto.UINT8, [height, width, 3])
    consts: dict[str, np.ndarray] = {
        "sizes": np.array([1, 2, height, width], np.int64),
        "half": np.array(0.5, np.float32),
        "axes0": np.array([0], np.int64),
        "ones_n": np.ones(len(OVERLAYS), np.int64),
        "axes3": np.array([3], np.int64),
        "box_start": np.array([y0, x0], np.int64),
        "box_end": np.array([y1, x1], np.int64),
        "hw_axes": np.array([2, 3], np.int64),
    }

    nodes = [
        *_upsampled_grid("grid_nhwc"),
        # Zero padding without align_corners is ONNX Runtime's fast path (4x quicker than
        # border or reflection on CPU); the texture carries a margin so that it is never
        # reached. Past the picture's edge the margin holds the mirrored photo: where the
        # head moves away from the edge, hair and background come in, not a streak.
        grid_sample("image", "grid_nhwc", "warped"),
        helper.make_node("Slice", ["warped", "box_start", "box_end", "hw_axes"], ["face"]),
        *_paint_nodes("face", "mixed"),
        # Sampling and the palette's mixes stay within 0..255: round, no clipping needed.
        *_to_hwc_uint8("warped", "whole"),
        *_to_hwc_uint8("mixed", "painted"),
        *_paste("whole", "painted", (x0, y0, x1, y1), (width, height), consts),
    ]
    nodes[-1].output[0] = "frame"
    return _serialize(nodes, "vasa_warp", inputs, [output], consts)


@lru_cache(maxsize=8)
def build_grid_model(height: int, width: int) -> bytes:
    """The CPU path's first step: the coarse backward grid ([1, 2, gh, gw], texture pixel
    indices) upsampled as ``build_warp_model`` does it, as an OpenCV map [1, H, W, 2]."""
    inputs = [helper.make_tensor_value_info("grid", TensorProto.FLOAT, [1, 2, None, None])]
    output = helper.make_tensor_value_info("map", TensorProto.FLOAT, [1, height, width, 2])
    consts: dict[str, np.ndarray] = {"sizes": np.array([1, 2, height, width], np.int64)}
    nodes = _upsampled_grid("map")
    return _serialize(nodes, "vasa_grid", inputs, [output], consts)


@lru_cache(maxsize=8)
def build_paint_model() -> bytes:
    """The CPU path's last step: a box of the sampled region (uint8 [h, w, 3], any size)
    with the mouth interior and the lids painted through that box of the overlay masks, as
    ``build_warp_model`` paints them."""
    u8, f32 = TensorProto.UINT8, TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("face_hwc", u8, ["h", "w", 3]),
        helper.make_tensor_value_info("overlay", f32, [1, len(OVERLAYS), "h", "w"]),
        helper.make_tensor_value_info("palette", f32, [1, 3, len(PALETTE)]),
    ]
    output = helper.make_tensor_value_info("painted", u8, ["h", "w", 3])
    consts: dict[str, np.ndarray] = {
        "half": np.array(0.5, np.float32),
        "axes0": np.array([0], np.int64),
        "ones_n": np.ones(len(OVERLAYS), np.int64),
        "axes3": np.array([3], np.int64),
    }
    nodes = [
        helper.make_node("Cast", ["face_hwc"], ["face_f"], to=f32),
        helper.make_node("Transpose", ["face_f"], ["face_chw"], perm=[2, 0, 1]),
        helper.make_node("Unsqueeze", ["face_chw", "axes0"], ["face"]),
        *_paint_nodes("face", "mixed"),
        *_to_hwc_uint8("mixed", "painted"),
    ]
    return _serialize(nodes, "vasa_paint", inputs, [output], consts)


def _upsampled_grid(out: str) -> list:
    """The coarse ``grid`` [1, 2, gh, gw] resized to ``sizes`` (bilinear, corners on
    corners), as [1, H, W, 2]: GridSample's grid, or OpenCV's map on the CPU path."""
    return [
        helper.make_node(
            "Resize",
            ["grid", "", "", "sizes"],
            ["grid_full"],
            mode="linear",
            coordinate_transformation_mode="align_corners",
        ),
        helper.make_node("Transpose", ["grid_full"], [out], perm=[0, 2, 3, 1]),
    ]


def _lerp(a: str, b: str, t: str, out: str) -> list:
    """out = a + t * (b - a)"""
    return [
        helper.make_node("Sub", [b, a], [out + "_d"]),
        helper.make_node("Mul", [t, out + "_d"], [out + "_t"]),
        helper.make_node("Add", [a, out + "_t"], [out]),
    ]


def _paint_nodes(face: str, out: str) -> list:
    """The painting of a face box (float [1, 3, h, w]) through the overlay masks with the
    palette's colours; needs the constants ``ones_n`` and ``axes3``."""
    return [
        helper.make_node("Split", ["overlay", "ones_n"], list(OVERLAYS), axis=1),
        helper.make_node("Unsqueeze", ["palette", "axes3"], ["palette4"]),  # [1, 3, 6, 1]
        helper.make_node("Split", ["palette4", "ones_n"], [f"c_{p}" for p in PALETTE], axis=2),
        *_lerp("c_interior", "c_throat", "throat", "inner"),
        *_lerp("inner", "c_tongue", "tongue", "behind_teeth"),
        *_lerp("behind_teeth", "c_teeth", "teeth", "mouth_rgb"),
        *_lerp("c_lid", "c_lash", "lash", "lid_rgb"),
        *_lerp(face, "mouth_rgb", "mouth", "with_mouth"),
        *_lerp("with_mouth", "lid_rgb", "lid", out),
    ]


def _serialize(
    nodes: list, name: str, inputs: list, outputs: list, consts: dict[str, np.ndarray]
) -> bytes:
    graph = helper.make_graph(
        nodes,
        name,
        inputs,
        outputs,
        initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="vasa-blender"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def grid_sample(image: str, grid: str, out: str) -> onnx.NodeProto:
    """Bilinear GridSample with zero padding and without align_corners: ONNX Runtime's fast
    path (about 4x quicker on CPU than border or reflection padding)."""
    return helper.make_node(
        "GridSample", [image, grid], [out], mode="bilinear", padding_mode="zeros", align_corners=0
    )


def _to_hwc_uint8(name: str, out: str) -> list:
    """float [1, 3, h, w] (0..255) -> uint8 [h, w, 3], rounded."""
    return [
        helper.make_node("Add", [name, "half"], [out + "_r"]),
        helper.make_node("Squeeze", [out + "_r", "axes0"], [out + "_chw"]),
        helper.make_node("Transpose", [out + "_chw"], [out + "_hwc"], perm=[1, 2, 0]),
        helper.make_node("Cast", [out + "_hwc"], [out], to=TensorProto.UINT8),
    ]


def _paste(
    whole: str,
    part: str,
    box: tuple[int, int, int, int],
    size: tuple[int, int],
    consts: dict[str, np.ndarray],
) -> list:
    """Nodes putting ``part`` (uint8 [h, w, 3]) into ``whole`` at ``box``; the last node's
    output is the result (renamed by the caller)."""
    x0, y0, x1, y1 = box
    width, height = size
    nodes, rows = [], []

    def cut(src: str, name: str, start: list[int], end: list[int]) -> str:
        consts[name + "_s"] = np.array(start, np.int64)
        consts[name + "_e"] = np.array(end, np.int64)
        consts[name + "_a"] = np.array([0, 1], np.int64)
        nodes.append(
            helper.make_node("Slice", [src, name + "_s", name + "_e", name + "_a"], [name])
        )
        return name

    band = [part]
    if x0 > 0:
        band.insert(0, cut(whole, "left", [y0, 0], [y1, x0]))
    if x1 < width:
        band.append(cut(whole, "right", [y0, x1], [y1, width]))
    middle = part
    if len(band) > 1:
        nodes.append(helper.make_node("Concat", band, ["middle"], axis=1))
        middle = "middle"
    if y0 > 0:
        rows.append(cut(whole, "top", [0, 0], [y0, width]))
    rows.append(middle)
    if y1 < height:
        rows.append(cut(whole, "bottom", [y1, 0], [height, width]))
    nodes.append(helper.make_node("Concat", rows, ["pasted"], axis=0))
    return nodes
