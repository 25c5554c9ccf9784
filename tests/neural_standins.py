"""Stand-in neural packs for tests: small ONNX files with the published tensor names, shapes
and element types of LivePortrait (FasterLivePortrait's and FaceFusion's files) and Ditto,
built with ``onnx.helper``; no weights are downloaded and nothing needs a GPU.

The graphs are simple but not constant: each output depends on its inputs (the warp's frame
on the appearance volume and on the driving minus source keypoints), so a renderer that
feeds the wrong tensor shows it. fp16 files keep fp16 at their inputs and outputs (Cast
nodes around an fp32 body), which is what a pack check and a renderer see. FaceFusion does
not publish its output names (its code reads them in order), so those here are invented.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8

FLP_FILES = {
    "appearance_feature_extractor": "appearance_feature_extractor.onnx",
    "motion_extractor": "motion_extractor.onnx",
    "warping_spade": "warping_spade.onnx",
    "stitching": "stitching.onnx",
    "stitching_eye": "stitching_eye.onnx",
    "stitching_lip": "stitching_lip.onnx",
}
FF_FILES = {
    "appearance_feature_extractor": "live_portrait_feature_extractor.onnx",
    "motion_extractor": "live_portrait_motion_extractor.onnx",
    "warping_spade": "live_portrait_generator.onnx",
    "stitching": "live_portrait_stitcher.onnx",
    "stitching_eye": "live_portrait_eye_retargeter.onnx",
    "stitching_lip": "live_portrait_lip_retargeter.onnx",
}
DITTO_FILES = {
    "hubert": "hubert.onnx",
    "lmdm": "lmdm_v0.4_hubert.onnx",
    "appearance_extractor": "appearance_extractor.onnx",
    "motion_extractor": "motion_extractor.onnx",
    "warp_network": "warp_network_ori.onnx",
    "decoder": "decoder.onnx",
    "stitch_network": "stitch_network.onnx",
}


class _Graph:
    """A tiny graph builder: fp32 body, fp32 or fp16 at the edges."""

    def __init__(self, fp16: bool, seed: int) -> None:
        self.fp16 = fp16
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.n = 0

    def name(self, hint: str) -> str:
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, value: np.ndarray, hint: str = "c") -> str:
        name = self.name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str = "t", **attrs) -> str:
        out = self.name(hint)
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def input(self, name: str, shape, elem: int | None = None) -> str:
        float_in = elem is None
        elem = elem or (TensorProto.FLOAT16 if self.fp16 else TensorProto.FLOAT)
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(shape)))
        if float_in and self.fp16:
            return self.op("Cast", [name], "in32", to=TensorProto.FLOAT)
        return name

    def output(self, name: str, value: str, shape) -> None:
        elem = TensorProto.FLOAT16 if self.fp16 else TensorProto.FLOAT
        cast = "Cast" if self.fp16 else "Identity"
        kwargs = {"to": elem} if self.fp16 else {}
        self.nodes.append(helper.make_node(cast, [value], [name], **kwargs))
        self.outputs.append(helper.make_tensor_value_info(name, elem, list(shape)))

    def dense(self, x: str, n_in: int, n_out: int, scale: float = 0.05) -> str:
        """[1, n_in] -> [1, n_out] with small random weights."""
        w = self.const((self.rng.standard_normal((n_in, n_out)) * scale).astype(np.float32))
        return self.op("MatMul", [x, w])

    def flat(self, x: str, n: int) -> str:
        return self.op("Reshape", [x, self.const(np.array([1, n], np.int64))])

    def reshape(self, x: str, shape) -> str:
        return self.op("Reshape", [x, self.const(np.array(shape, np.int64))])

    def image_summary(self, image: str) -> str:
        """[1, 3, H, W] -> [1, 3] mean colour."""
        return self.flat(self.op("GlobalAveragePool", [image]), 3)

    def model(self, doc: str) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, "standin", self.inputs, self.outputs, self.inits)
        model = helper.make_model(
            graph, opset_imports=[helper.make_opsetid("", OPSET)], doc_string=doc
        )
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model)
        return model


def _appearance(g: _Graph, in_name: str, out_name: str) -> None:
    img = g.input(in_name, (1, 3, 256, 256))
    small = g.op("AveragePool", [img], kernel_shape=[4, 4], strides=[4, 4])  # [1,3,64,64]
    w = g.const((g.rng.standard_normal((512, 3, 1, 1)) * 0.5).astype(np.float32))
    vol = g.op("Conv", [small, w])  # [1,512,64,64]
    g.output(out_name, g.reshape(vol, [1, 32, 16, 64, 64]), (1, 32, 16, 64, 64))


def _motion_flp(g: _Graph, in_name: str) -> None:
    colour = g.image_summary(g.input(in_name, (1, 3, 256, 256)))
    for name, n in (("pitch", 66), ("yaw", 66), ("roll", 66), ("t", 3), ("exp", 63)):
        g.output(name, g.dense(colour, 3, n), (1, n))
    scale = g.op("Add", [g.dense(colour, 3, 1, 0.01), g.const(np.float32(1.5))])
    g.output("scale", scale, (1, 1))
    kp = g.op("Add", [g.dense(colour, 3, 63, 0.01), g.const(_canonical_kp().reshape(1, 63))])
    g.output("kp", kp, (1, 63))


def _motion_ff(g: _Graph) -> None:
    colour = g.image_summary(g.input("input", (1, 3, 256, 256)))
    for name in ("pitch", "yaw", "roll"):
        degrees = g.op("ReduceSum", [g.dense(colour, 3, 1)], keepdims=0)  # a scalar
        g.output(f"ff_{name}", degrees, ())
    scale = g.op("Add", [g.dense(colour, 3, 1, 0.01), g.const(np.float32(1.5))])
    g.output("ff_scale", scale, (1, 1))
    g.output("ff_translation", g.dense(colour, 3, 3), (1, 3))
    g.output("ff_expression", g.reshape(g.dense(colour, 3, 63), [1, 21, 3]), (1, 21, 3))
    kp = g.op("Add", [g.dense(colour, 3, 63, 0.01), g.const(_canonical_kp().reshape(1, 63))])
    g.output("ff_motion_points", g.reshape(kp, [1, 21, 3]), (1, 21, 3))


def _canonical_kp() -> np.ndarray:
    """21 keypoints spread over a face-sized patch of the canonical space (-0.3..0.3)."""
    rng = np.random.default_rng(21)
    return (rng.uniform(-0.3, 0.3, (21, 3)) * np.array([1, 1, 0.3])).astype(np.float32)


def _warp(g: _Graph, names: tuple[str, str, str], out_name: str, driving_first: bool) -> None:
    """Frame = sigmoid(conv(volume) + mean(driving - source)), upsampled to 512."""
    feat_name, a_name, b_name = names
    feat = g.input(feat_name, (1, 32, 16, 64, 64))
    a = g.input(a_name, (1, 21, 3))
    b = g.input(b_name, (1, 21, 3))
    driving, source = (a, b) if driving_first else (b, a)
    flat = g.reshape(feat, [1, 512, 64, 64])
    w = g.const((g.rng.standard_normal((3, 512, 1, 1)) * 0.02).astype(np.float32))
    rgb = g.op("Conv", [flat, w])  # [1,3,64,64]
    shift = g.op("ReduceMean", [g.op("Sub", [driving, source])], keepdims=0)
    lit = g.op("Sigmoid", [g.op("Add", [rgb, g.op("Mul", [shift, g.const(np.float32(8.0))])])])
    scales = g.const(np.array([1, 1, 8, 8], np.float32))
    frame = g.op("Resize", [lit, "", scales], mode="nearest")
    g.output(out_name, frame, (1, 3, 512, 512))


def _dense_model(g: _Graph, in_name: str, n_in: int, out_name: str, n_out: int) -> None:
    x = g.input(in_name, (1, n_in))
    g.output(out_name, g.dense(x, n_in, n_out, 0.001), (1, n_out))


def _retargeter(g: _Graph, out_name: str, n_ratios: int) -> None:
    """LP's eye ([1, 66]) or lip ([1, 65]) retargeting MLP: ``[x_s (63), ratios]`` -> a
    [1, 63] delta, here ``0.05 tanh([x_s, ratios] @ W)``: nonlinear in both, the ratios'
    rows mostly positive so a change of target moves every keypoint the same way (enough
    for the stand-in warp to show it)."""
    n_in = 63 + n_ratios
    x = g.input("input", (1, n_in))
    w = g.rng.standard_normal((n_in, 63)) * 0.05
    w[63:] = 0.5 + g.rng.standard_normal((n_ratios, 63)) * 0.1
    h = g.op("MatMul", [x, g.const(w.astype(np.float32))])
    out = g.op("Mul", [g.op("Tanh", [h]), g.const(np.float32(0.05))])
    g.output(out_name, out, (1, 63))


def _ff_stitcher(g: _Graph) -> None:
    source = g.input("source", (1, 21, 3))
    target = g.input("target", (1, 21, 3))
    nudge = g.op("Mul", [g.op("Sub", [target, source]), g.const(np.float32(0.01))])
    g.output("ff_stitched", g.op("Add", [source, nudge]), (1, 21, 3))


def liveportrait_model(key: str, layout: str = "flp", fp16: bool = False) -> onnx.ModelProto:
    """The stand-in for one LivePortrait model key in ``layout`` "flp" or "ff"."""
    g = _Graph(fp16, seed=zlib.crc32(f"{key}/{layout}".encode()))
    flp = layout == "flp"
    if key == "appearance_feature_extractor":
        _appearance(g, "img" if flp else "input", "output" if flp else "ff_feature_volume")
    elif key == "motion_extractor":
        _motion_flp(g, "img") if flp else _motion_ff(g)
    elif key == "warping_spade":
        if flp:
            _warp(g, ("feature_3d", "kp_driving", "kp_source"), "out", driving_first=True)
        else:
            _warp(g, ("feature_volume", "source", "target"), "ff_frame", driving_first=True)
    elif key == "stitching":
        _dense_model(g, "input", 126, "output", 65) if flp else _ff_stitcher(g)
    elif key == "stitching_eye":
        _retargeter(g, "output" if flp else "ff_eye_delta", 3)
    elif key == "stitching_lip":
        _retargeter(g, "output" if flp else "ff_lip_delta", 2)
    else:
        raise KeyError(key)
    return g.model(f"test stand-in for LivePortrait {key} ({layout})")


def _hubert(g: _Graph) -> None:
    """Ditto's HuBERT as its code calls it: ``input_values`` [1, samples] (16 kHz) ->
    ``encoding_out`` [rows, 1024], one row per 320 samples over a 400-sample field (HuBERT's
    convolutional front end: 20 rows for Ditto's 6480-sample window). Each row here is a
    fixed random mix of its field's log energy in 5 bands of 80 samples, so the features
    follow the voice."""
    x = g.input("input_values", (1, "samples"))
    squares = g.reshape(g.op("Mul", [x, x]), [1, 1, -1])
    energy = g.op("AveragePool", [squares], kernel_shape=[80], strides=[80])  # [1, 1, m]
    bands = g.op(
        "Conv", [energy, g.const(np.eye(5, dtype=np.float32).reshape(5, 1, 5))], strides=[4]
    )
    logs = g.op("Log", [g.op("Add", [bands, g.const(np.float32(1e-6))])])  # [1, 5, rows]
    rows = g.op("Transpose", [g.reshape(logs, [5, -1])], perm=[1, 0])  # [rows, 5]
    w = g.const((g.rng.standard_normal((5, 1024)) * 0.05).astype(np.float32))
    g.output("encoding_out", g.op("Tanh", [g.op("MatMul", [rows, w])]), ("frames", 1024))


def _lmdm(g: _Graph) -> None:
    """Ditto's LMDM as its code calls it (``core/models/lmdm.py``): x_start is a bounded
    function of the noisy motion, the conditioning frame and each frame's condition row;
    pred_noise is the noise that x_start implies at ``time_cond`` on the cosine schedule
    (as the real model's ``predict_noise_from_start``), so DDIM behaves as with the real
    one. The pose bins (1..198) move with the audio only a little, so angles stay small."""
    x = g.input("x", (1, 80, 265))
    cond_frame = g.input("cond_frame", (1, 265))
    cond = g.input("cond", (1, 80, 1103))
    t = g.input("time_cond", (1,), TensorProto.INT64)
    gain = np.full(265, 0.01, np.float32)  # scale, t, exp
    gain[1:199] = 0.02  # pose bins
    w = (g.rng.standard_normal((1103, 265)) * 0.2 * gain).astype(np.float32)
    audio = g.op("Tanh", [g.op("MatMul", [cond, g.const(w)])])  # [1, 80, 265]
    held = g.op("Mul", [g.reshape(cond_frame, [1, 1, 265]), g.const(np.float32(0.8))])
    start = g.op("Add", [g.op("Add", [held, audio]), g.op("Mul", [x, g.const(np.float32(0.02))])])
    steps = np.arange(1001, dtype=np.float64) / 1000 + 8e-3
    f = np.cos(steps / (1 + 8e-3) * np.pi / 2) ** 2
    ac = np.cumprod(1 - np.clip(1 - (f / f[0])[1:] / (f / f[0])[:-1], 0, 0.999))
    a = g.op("Gather", [g.const(np.sqrt(1 / ac).astype(np.float32)), t])
    b = g.op("Gather", [g.const(np.sqrt(1 / ac - 1).astype(np.float32)), t])
    noise = g.op("Div", [g.op("Sub", [g.op("Mul", [x, a]), start]), b])
    g.output("pred_noise", noise, (1, 80, 265))
    g.output("x_start", start, (1, 80, 265))


def ditto_model(key: str, fp16: bool = False) -> onnx.ModelProto:
    g = _Graph(fp16, seed=zlib.crc32(f"ditto/{key}".encode()))
    if key == "hubert":
        _hubert(g)
    elif key == "lmdm":
        _lmdm(g)
    elif key == "appearance_extractor":
        _appearance(g, "image", "pred")
    elif key == "motion_extractor":
        _motion_flp(g, "image")
    elif key == "warp_network":
        feat = g.input("feature_3d", (1, 32, 16, 64, 64))
        source = g.input("kp_source", (1, 21, 3))
        driving = g.input("kp_driving", (1, 21, 3))
        shift = g.op("ReduceMean", [g.op("Sub", [driving, source])], keepdims=0)
        shift = g.op("Mul", [shift, g.const(np.float32(8.0))])
        w = g.const((g.rng.standard_normal((256, 512, 1, 1)) * 0.02).astype(np.float32))
        out = g.op("Conv", [g.reshape(feat, [1, 512, 64, 64]), w])
        g.output("out", g.op("Add", [out, shift]), (1, 256, 64, 64))
    elif key == "decoder":
        feature = g.input("feature", (1, 256, 64, 64))
        w = g.const((g.rng.standard_normal((3, 256, 1, 1)) * 0.02).astype(np.float32))
        lit = g.op("Sigmoid", [g.op("Conv", [feature, w])])
        scales = g.const(np.array([1, 1, 8, 8], np.float32))
        g.output("output", g.op("Resize", [lit, "", scales], mode="nearest"), (1, 3, 512, 512))
    elif key == "stitch_network":
        source = g.input("kp_source", (1, 21, 3))
        driving = g.input("kp_driving", (1, 21, 3))
        nudge = g.op("Mul", [g.op("Sub", [source, driving]), g.const(np.float32(0.01))])
        g.output("out", g.op("Add", [driving, nudge]), (1, 21, 3))
    else:
        raise KeyError(key)
    return g.model(f"test stand-in for Ditto {key}")


def tiny_model(in_name: str = "input", out_name: str = "output") -> onnx.ModelProto:
    """Any small valid model (for the optional helper files a pack may also hold)."""
    g = _Graph(False, seed=0)
    g.output(out_name, g.input(in_name, (1, 3)), (1, 3))
    return g.model("test stand-in helper")


def save(model: onnx.ModelProto, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path


def liveportrait_folder(
    folder: Path, layout: str = "flp", fp16: bool = False, optional: bool = True
) -> Path:
    """A folder of stand-in files as FasterLivePortrait ("flp") or FaceFusion ("ff") ship
    them (no pack.toml: ``pack init`` writes it)."""
    names = FLP_FILES if layout == "flp" else FF_FILES
    for key, file in names.items():
        if optional or key not in ("stitching_eye", "stitching_lip"):
            save(liveportrait_model(key, layout, fp16), folder / file)
    if layout == "flp" and optional:
        save(tiny_model(), folder / "landmark.onnx")
    return folder


def ditto_folder(folder: Path, fp16: bool = False) -> Path:
    """A ditto_onnx/-like folder of stand-ins, with the config pickle Ditto ships beside it
    (its bytes are a harmless placeholder: it must be refused by name, never opened)."""
    for key, file in DITTO_FILES.items():
        save(ditto_model(key, fp16 and key not in ("hubert", "lmdm")), folder / file)
    (folder / "v0.4_hubert_cfg_trt.pkl").write_bytes(b"placeholder, never unpickled")
    return folder
