"""The neural profiles: LivePortrait (FasterLivePortrait's and FaceFusion's ONNX files) and
Ditto, as tensor tables bound by name.

Every name, shape and element type here was read from the projects' own code; docs/packs.md
gives the file and line of each. Float tensors accept fp32 and fp16 files alike (the
projects publish both). Our own face analysis finds and crops the face, so the projects'
detectors and landmark models are optional: ``pack init`` recognises them, nothing runs them.

The stages: face analysis is the built-in MediaPipe one (its landmarks place the
LivePortrait crop); LivePortrait packs render with ``core/render/liveportrait`` driven by
our motion. Ditto packs make the motion from the voice with their own HuBERT and LMDM
models (``core/motion/ditto``) and render it with the same LivePortrait renderer on their
own networks (which are LivePortrait's under other tensor names).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .profiles import (
    ModelSpec,
    Profile,
    TensorSpec,
    mediapipe_face,
    procedural_motion,
    register_profile,
)

if TYPE_CHECKING:
    import numpy as np

    from ..face.source import SourceFace
    from ..stages import FaceAnalysis, MotionGenerator, Renderer
    from .packs import ModelPack

FLOAT = ("tensor(float)", "tensor(float16)")
INT64 = "tensor(int64)"
IMAGE_256 = (1, 3, 256, 256)  # RGB in 0..1, NCHW
FEATURE_3D = (1, 32, 16, 64, 64)  # the appearance volume
KEYPOINTS = (1, 21, 3)  # implicit 3-D keypoints
FRAME_512 = (1, 3, 512, 512)  # RGB in 0..1, NCHW


def _t(name: str, shape: tuple[int | None, ...] | None, dtype=FLOAT) -> TensorSpec:
    return TensorSpec(name, shape, dtype)


def _any_model(files: tuple[str, ...], label: str) -> ModelSpec:
    """An optional helper model that only ``pack init`` recognises (no tensor is read)."""
    return ModelSpec((), (), files=files, optional=True, label=label)


# -- LivePortrait ---------------------------------------------------------------------------
# FasterLivePortrait's liveportrait_onnx/ export names each tensor; FaceFusion's models-3.0.0
# files name their inputs, but its code reads the outputs in order (face_editor/core.py), so
# those outputs are bound by place, in FaceFusion's order, and their names are not checked.

_LP_MOTION_FLP = ModelSpec(
    (_t("img", IMAGE_256),),
    (
        _t("pitch", (1, 66)),  # 66 bins of 3 degrees: softmax expectation * 3 - 97.5
        _t("yaw", (1, 66)),
        _t("roll", (1, 66)),
        _t("t", (1, 3)),
        _t("exp", (1, 63)),
        _t("scale", (1, 1)),
        _t("kp", (1, 63)),
    ),
    files=("motion_extractor.onnx", "motion_extractor*.onnx"),
    label="FasterLivePortrait",
)
_LP_MOTION_FF = ModelSpec(
    (_t("input", IMAGE_256),),
    (
        _t("", ()),  # pitch, degrees
        _t("", ()),  # yaw, degrees
        _t("", ()),  # roll, degrees
        _t("", None),  # scale
        _t("", None),  # translation
        _t("", KEYPOINTS),  # expression
        _t("", KEYPOINTS),  # motion points (canonical keypoints)
    ),
    files=("live_portrait_motion_extractor*.onnx",),
    label="FaceFusion",
)

LIVEPORTRAIT_MODELS: dict[str, ModelSpec] = {
    "appearance_feature_extractor": ModelSpec(
        (_t("img", IMAGE_256),),
        (_t("output", FEATURE_3D),),
        files=("appearance_feature_extractor*.onnx",),
        label="FasterLivePortrait",
        alternatives=(
            ModelSpec(
                (_t("input", IMAGE_256),),
                (_t("", FEATURE_3D),),
                files=("live_portrait_feature_extractor*.onnx",),
                label="FaceFusion",
            ),
        ),
    ),
    "motion_extractor": ModelSpec(
        _LP_MOTION_FLP.inputs,
        _LP_MOTION_FLP.outputs,
        files=_LP_MOTION_FLP.files,
        label=_LP_MOTION_FLP.label,
        alternatives=(_LP_MOTION_FF,),
    ),
    "warping_spade": ModelSpec(
        (_t("feature_3d", FEATURE_3D), _t("kp_driving", KEYPOINTS), _t("kp_source", KEYPOINTS)),
        (_t("out", FRAME_512),),
        files=("warping_spade.onnx", "warping_spade*.onnx"),
        label="FasterLivePortrait",
        alternatives=(
            # FaceFusion: 'source' is the driving (edited) keypoints, 'target' the photo's own.
            ModelSpec(
                (
                    _t("feature_volume", FEATURE_3D),
                    _t("source", KEYPOINTS),
                    _t("target", KEYPOINTS),
                ),
                (_t("", FRAME_512),),
                files=("live_portrait_generator*.onnx",),
                label="FaceFusion",
            ),
        ),
    ),
    "stitching": ModelSpec(
        (_t("input", (1, 126)),),  # [x_s (63), x_d (63)]
        (_t("output", (1, 65)),),  # keypoint deltas (63) + tx, ty (2)
        files=("stitching.onnx", "stitching-*.onnx", "stitching_v*.onnx"),
        label="FasterLivePortrait",
        alternatives=(
            # FaceFusion's stitcher applies the deltas itself: out = the stitched keypoints.
            ModelSpec(
                (_t("source", KEYPOINTS), _t("target", KEYPOINTS)),
                (_t("", KEYPOINTS),),
                files=("live_portrait_stitcher*.onnx",),
                label="FaceFusion",
            ),
        ),
    ),
    "stitching_eye": ModelSpec(
        (_t("input", (1, 66)),),  # [x_s (63), eye ratios (3)]
        (_t("output", (1, 63)),),
        files=("stitching_eye*.onnx",),
        optional=True,
        label="FasterLivePortrait",
        alternatives=(
            ModelSpec(
                (_t("input", (1, 66)),),
                (_t("", (1, 63)),),
                files=("live_portrait_eye_retargeter*.onnx",),
                label="FaceFusion",
            ),
        ),
    ),
    "stitching_lip": ModelSpec(
        (_t("input", (1, 65)),),  # [x_s (63), lip ratios (2)]
        (_t("output", (1, 63)),),
        files=("stitching_lip*.onnx",),
        optional=True,
        label="FasterLivePortrait",
        alternatives=(
            ModelSpec(
                (_t("input", (1, 65)),),
                (_t("", (1, 63)),),
                files=("live_portrait_lip_retargeter*.onnx",),
                label="FaceFusion",
            ),
        ),
    ),
    "landmark": _any_model(("landmark.onnx",), "FasterLivePortrait"),
    "face_detector": _any_model(("retinaface_det_static.onnx",), "FasterLivePortrait"),
    "face_landmarks_106": _any_model(("face_2dpose_106_static.onnx",), "FasterLivePortrait"),
}

# -- Ditto ----------------------------------------------------------------------------------
# ditto_onnx/ from digital-avatar/ditto-talkinghead; tensor names from the ONNX branch of each
# wrapper in antgroup/ditto-talkinghead core/models/ and core/aux_models/.

DITTO_MODELS: dict[str, ModelSpec] = {
    "hubert": ModelSpec(
        (_t("input_values", (1, None)),),  # 16 kHz samples, 6480 per call (3240..12960)
        (_t("encoding_out", (None, 1024)),),  # 50 feature rows a second
        files=("hubert.onnx", "hubert*.onnx"),
    ),
    "lmdm": ModelSpec(
        (
            _t("x", (1, 80, 265)),  # noisy motion, 80 frames x 265
            _t("cond_frame", (1, 265)),  # the source's motion
            # HuBERT 1024 + emotion 8 + eye open 2 + eye ball 6 + canonical keypoints 63
            _t("cond", (1, 80, 1103)),
            _t("time_cond", (1,), INT64),  # DDIM step
        ),
        (_t("pred_noise", (1, 80, 265)), _t("x_start", (1, 80, 265))),
        files=("lmdm_v0.4_hubert.onnx", "lmdm*.onnx"),
    ),
    "appearance_extractor": ModelSpec(
        (_t("image", IMAGE_256),),
        (_t("pred", FEATURE_3D),),
        files=("appearance_extractor*.onnx",),
    ),
    "motion_extractor": ModelSpec(
        (_t("image", IMAGE_256),),
        (
            _t("pitch", (1, 66)),
            _t("yaw", (1, 66)),
            _t("roll", (1, 66)),
            _t("t", (1, 3)),
            _t("exp", None),  # reshaped to (1, 63) by Ditto
            _t("scale", (1, 1)),
            _t("kp", None),
        ),
        files=("motion_extractor*.onnx",),
    ),
    "warp_network": ModelSpec(
        (
            _t("feature_3d", FEATURE_3D),
            _t("kp_source", KEYPOINTS),
            _t("kp_driving", KEYPOINTS),
        ),
        (_t("out", (1, 256, 64, 64)),),
        # warp_network.onnx holds the TensorRT GridSample3D plug-in op; _ori is plain ONNX.
        files=("warp_network_ori.onnx", "warp_network*.onnx"),
    ),
    "decoder": ModelSpec(
        (_t("feature", (1, 256, 64, 64)),),
        (_t("output", FRAME_512),),
        files=("decoder*.onnx",),
    ),
    "stitch_network": ModelSpec(
        (_t("kp_source", KEYPOINTS), _t("kp_driving", KEYPOINTS)),
        (_t("out", KEYPOINTS),),  # the stitched driving keypoints
        files=("stitch_network*.onnx",),
    ),
    "blaze_face": _any_model(("blaze_face.onnx",), "Ditto"),
    "face_mesh": _any_model(("face_mesh.onnx",), "Ditto"),
    "insightface_det": _any_model(("insightface_det.onnx",), "Ditto"),
    "landmark106": _any_model(("landmark106.onnx",), "Ditto"),
    "landmark203": _any_model(("landmark203.onnx",), "Ditto"),
}


def builtin_face(pack: ModelPack) -> FaceAnalysis:
    """The built-in MediaPipe analysis (from the built-in pack, on this pack's runtime): its
    landmarks place the crop, so a neural pack needs no face models of its own."""
    from .packs import open_pack

    return mediapipe_face(open_pack(None, runtime=pack.runtime))


def liveportrait_renderer(pack: ModelPack, image: np.ndarray, face: SourceFace) -> Renderer:
    """LivePortrait's warp + decoder driven by the MotionTrack (``core/render/liveportrait``)."""
    from ..render.liveportrait import LivePortraitRenderer

    return LivePortraitRenderer(pack, image, face)


def ditto_motion(pack: ModelPack) -> MotionGenerator:
    """Ditto's HuBERT + LMDM motion from the voice (``core/motion/ditto``)."""
    from ..motion.ditto import DittoMotion

    return DittoMotion(pack)


def ditto_renderer(pack: ModelPack, image: np.ndarray, face: SourceFace) -> Renderer:
    """The LivePortrait renderer on Ditto's networks (warp + decoder, stitch, extractors)."""
    from ..render.liveportrait import LivePortraitRenderer

    return LivePortraitRenderer(pack, image, face)


LIVEPORTRAIT = Profile(
    "liveportrait",
    LIVEPORTRAIT_MODELS,
    builtin_face,
    procedural_motion,
    liveportrait_renderer,
    "LivePortrait ONNX (FasterLivePortrait or FaceFusion files): our motion, neural renderer",
)

DITTO = Profile(
    "ditto",
    DITTO_MODELS,
    builtin_face,
    ditto_motion,
    ditto_renderer,
    "Ditto ONNX (ditto_onnx/): HuBERT + LMDM motion, LivePortrait-style renderer",
)

for _profile in (LIVEPORTRAIT, DITTO):
    register_profile(_profile, replace=True)
