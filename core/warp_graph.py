"""The renderer's per-frame pixel work as an ONNX graph, built here and run by ONNX Runtime.

Inputs: the head region of the photo (float32 [1, 3, H, W]), a coarse backward grid in
GridSample's -1..1 units ([1, 2, gh, gw]), a mouth-interior mask ([1, 1, H, W]) and the
interior colour ([1, 3, 1, 1]). The graph upsamples the grid (Resize, align_corners),
samples the photo (GridSample, bilinear), darkens the mouth interior where the mask says,
and returns uint8 [H, W, 3], so the same model runs on CUDA unchanged.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


@lru_cache(maxsize=8)
def build_warp_model(height: int, width: int) -> bytes:
    """Serialized ONNX model for a region of ``height`` x ``width`` pixels."""
    f32 = TensorProto.FLOAT
    inputs = [
        helper.make_tensor_value_info("image", f32, [1, 3, height, width]),
        helper.make_tensor_value_info("grid", f32, [1, 2, None, None]),
        helper.make_tensor_value_info("mask", f32, [1, 1, height, width]),
        helper.make_tensor_value_info("interior", f32, [1, 3, 1, 1]),
    ]
    output = helper.make_tensor_value_info("frame", TensorProto.UINT8, [height, width, 3])
    consts = {
        "sizes": np.array([1, 2, height, width], np.int64),
        "one": np.array(1.0, np.float32),
        "shade": np.array(0.45, np.float32),
        "half": np.array(0.5, np.float32),
        "lo": np.array(0.0, np.float32),
        "hi": np.array(255.0, np.float32),
        "axes0": np.array([0], np.int64),
    }
    nodes = [
        helper.make_node("Resize", ["grid", "", "", "sizes"], ["grid_full"], mode="linear",
                         coordinate_transformation_mode="align_corners"),
        helper.make_node("Transpose", ["grid_full"], ["grid_nhwc"], perm=[0, 2, 3, 1]),
        helper.make_node("GridSample", ["image", "grid_nhwc"], ["warped"], mode="bilinear",
                         padding_mode="border", align_corners=1),
        # out = warped * (1 - m) + interior * (1 - 0.45 m) * m: darker towards the middle.
        helper.make_node("Sub", ["one", "mask"], ["keep"]),
        helper.make_node("Mul", ["warped", "keep"], ["kept"]),
        helper.make_node("Mul", ["shade", "mask"], ["shade_m"]),
        helper.make_node("Sub", ["one", "shade_m"], ["depth"]),
        helper.make_node("Mul", ["depth", "mask"], ["cover"]),
        helper.make_node("Mul", ["interior", "cover"], ["inside"]),
        helper.make_node("Add", ["kept", "inside"], ["mixed"]),
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
