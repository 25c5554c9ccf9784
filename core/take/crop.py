"""VASA-1's output format: a square face crop, resized to 512x512, fixed for the whole take.

The box is chosen once from the source face (face, hair and chin with room for the head's
motion) so that the crop does not swim; the resize runs as a small ONNX graph (Resize with
antialiasing, opset 18) so it runs on the same provider as the renderer.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..face.source import SourceFace
from ..render.frame import FaceFrame
from ..runtime.sessions import Runtime

CROP_SIZE = 512
# Side of the square in face heights (chin to forehead), centred a little above the
# landmarks' centre so the hair fits.
CROP_FACE_HEIGHTS = 2.0
CROP_RAISE = 0.12


@lru_cache(maxsize=8)
def build_crop_model(height: int, width: int, out: int) -> bytes:
    """uint8 [height, width, 3] -> uint8 [out, out, 3], area-like (antialiased) resize."""
    inp = helper.make_tensor_value_info("crop", TensorProto.UINT8, [height, width, 3])
    outp = helper.make_tensor_value_info("frame", TensorProto.UINT8, [out, out, 3])
    consts: dict[str, np.ndarray] = {
        "sizes": np.array([out, out, 3], np.int64),
        "lo": np.array(0.0, np.float32),
        "hi": np.array(255.0, np.float32),
        "half": np.array(0.5, np.float32),
    }
    nodes = [
        helper.make_node("Cast", ["crop"], ["f"], to=TensorProto.FLOAT),
        helper.make_node(
            "Resize",
            ["f", "", "", "sizes"],
            ["r"],
            mode="linear",
            antialias=1,
            coordinate_transformation_mode="half_pixel",
        ),
        helper.make_node("Add", ["r", "half"], ["rounded"]),
        helper.make_node("Clip", ["rounded", "lo", "hi"], ["c"]),
        helper.make_node("Cast", ["c"], ["frame"], to=TensorProto.UINT8),
    ]
    graph = helper.make_graph(
        nodes,
        "vasa_crop",
        [inp],
        [outp],
        initializer=[numpy_helper.from_array(v, k) for k, v in consts.items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 18)], producer_name="vasa-blender"
    )
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def crop_box(face: SourceFace) -> tuple[int, int, int]:
    """(x0, y0, side) of the square crop, inside the picture."""
    w, h = face.image_size
    frame = FaceFrame.of(face)
    side = int(round(min(CROP_FACE_HEIGHTS * frame.fh, w, h)))
    cx, cy = frame.centre
    cy -= CROP_RAISE * frame.fh
    x0 = int(np.clip(round(cx - side / 2), 0, w - side))
    y0 = int(np.clip(round(cy - side / 2), 0, h - side))
    return x0, y0, side


class FaceCrop:
    """Cuts and resizes the same square out of every full frame."""

    def __init__(self, face: SourceFace, runtime: Runtime, size: int = CROP_SIZE):
        self.x0, self.y0, self.side = crop_box(face)
        self.size = size
        self.session = runtime.session(
            build_crop_model(self.side, self.side, size), name=f"builtin/crop_{self.side}_{size}"
        )

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        crop = frame[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side]
        return self.session.run(None, {"crop": np.ascontiguousarray(crop)})[0]

    def describe(self) -> dict[str, object]:
        return {"box": [self.x0, self.y0, self.side, self.side], "size": [self.size] * 2}
