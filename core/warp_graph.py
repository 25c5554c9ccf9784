"""The renderer's per-frame pixel work as an ONNX graph, built here and run by ONNX Runtime.

Inputs: the head region of the photo (float32 [1, 3, H, W]), a coarse backward grid in
GridSample's -1..1 units ([1, 2, gh, gw]), overlay masks ([1, 5, H, W]: mouth opening,
upper teeth, throat depth, closing eyelid, lash line; rasterised from the moved landmarks)
and the palette ([1, 3, 5]: mouth interior, throat, teeth, eyelid skin, lashes). The graph
upsamples the grid (Resize, align_corners), samples the photo (GridSample, bilinear,
mirrored past the picture's edge),
paints the mouth interior and the closing lids where the masks say, and returns uint8
[H, W, 3], so the same model runs on CUDA unchanged.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
OVERLAYS = ("mouth", "teeth", "throat", "lid", "lash")
PALETTE = ("interior", "throat", "teeth", "lid", "lash")


@lru_cache(maxsize=8)
def build_warp_model(height: int, width: int) -> bytes:
    """Serialized ONNX model for a region of ``height`` x ``width`` pixels."""
    f32 = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("image", f32, [1, 3, height, width]),
        helper.make_tensor_value_info("grid", f32, [1, 2, None, None]),
        helper.make_tensor_value_info("overlay", f32, [1, len(OVERLAYS), height, width]),
        helper.make_tensor_value_info("palette", f32, [1, 3, len(PALETTE)]),
    ]
    output = helper.make_tensor_value_info("frame", TensorProto.UINT8, [height, width, 3])
    consts = {
        "sizes": np.array([1, 2, height, width], np.int64),
        "half": np.array(0.5, np.float32),
        "lo": np.array(0.0, np.float32),
        "hi": np.array(255.0, np.float32),
        "axes0": np.array([0], np.int64),
        "ones5": np.ones(len(OVERLAYS), np.int64),
        "axes3": np.array([3], np.int64),
    }

    def lerp(a: str, b: str, t: str, out: str) -> list:
        """out = a + t * (b - a)"""
        return [helper.make_node("Sub", [b, a], [out + "_d"]),
                helper.make_node("Mul", [t, out + "_d"], [out + "_t"]),
                helper.make_node("Add", [a, out + "_t"], [out])]

    nodes = [
        helper.make_node("Resize", ["grid", "", "", "sizes"], ["grid_full"], mode="linear",
                         coordinate_transformation_mode="align_corners"),
        helper.make_node("Transpose", ["grid_full"], ["grid_nhwc"], perm=[0, 2, 3, 1]),
        # Reflection: where the head moves away from the picture's edge, what comes in is
        # the mirrored neighbourhood (hair, background), not a streak of the edge row.
        helper.make_node("GridSample", ["image", "grid_nhwc"], ["warped"], mode="bilinear",
                         padding_mode="reflection", align_corners=1),
        helper.make_node("Split", ["overlay", "ones5"], list(OVERLAYS), axis=1),
        helper.make_node("Unsqueeze", ["palette", "axes3"], ["palette4"]),  # [1, 3, 5, 1]
        helper.make_node("Split", ["palette4", "ones5"], [f"c_{p}" for p in PALETTE], axis=2),
        *lerp("c_interior", "c_throat", "throat", "inner"),
        *lerp("inner", "c_teeth", "teeth", "mouth_rgb"),
        *lerp("c_lid", "c_lash", "lash", "lid_rgb"),
        *lerp("warped", "mouth_rgb", "mouth", "with_mouth"),
        *lerp("with_mouth", "lid_rgb", "lid", "mixed"),
        helper.make_node("Add", ["mixed", "half"], ["rounded"]),
        helper.make_node("Clip", ["rounded", "lo", "hi"], ["clipped"]),
        helper.make_node("Squeeze", ["clipped", "axes0"], ["chw"]),
        helper.make_node("Transpose", ["chw"], ["hwc"], perm=[1, 2, 0]),
        helper.make_node("Cast", ["hwc"], ["frame"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(
        nodes, "vasa_warp", inputs, [output],
        initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="vasa-blender")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()
