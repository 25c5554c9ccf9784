"""LivePortrait's networks as they come in a pack: FasterLivePortrait's files (tensors bound
by name) or FaceFusion's (inputs by name, outputs in FaceFusion's order), fp32 or fp16; and
Ditto's files of the same networks (``DittoNetworks``: the warp and the decoder are two files
there, the stitching network returns the stitched keypoints).

Sessions come from ``pack.session(KEY)``, so they run on the take's runtime and are in its
provider report. Each call casts its inputs to the element type the file declares and
returns float32 arrays; every export has batch 1 (docs/packs.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ModelPackError
from ...runtime.model_files import matching_variant
from ...runtime.neural_profiles import DITTO_MODELS, LIVEPORTRAIT_MODELS
from ...runtime.profiles import ModelSpec
from .keypoints import N_KP, Motion, headpose_degrees

if TYPE_CHECKING:
    from ...runtime.packs import ModelPack

_NUMPY = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int64)": np.int64}


class PackModel:
    """One session: inputs cast to the file's types, outputs by name or by place."""

    def __init__(
        self,
        pack: ModelPack,
        key: str,
        models: Mapping[str, ModelSpec] = LIVEPORTRAIT_MODELS,
    ) -> None:
        self.session: Any = pack.session(key)
        variant = matching_variant(self.session, models[key])
        if variant is None:  # open_pack checked it; a file swapped since then
            raise ModelPackError(
                f"{pack.files[key].name} no longer fits the {pack.profile} profile; run pack "
                "init again."
            )
        self.label = variant.label
        self.types = {i.name: _NUMPY.get(i.type, np.float32) for i in self.session.get_inputs()}
        self.output_names = [o.name for o in self.session.get_outputs()]

    def __call__(self, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        cast = {k: np.ascontiguousarray(v, dtype=self.types[k]) for k, v in feeds.items()}
        return [np.asarray(o, np.float32) for o in self.session.run(None, cast)]

    def named(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self(feeds), strict=True))


def _motion(angles: list[float], scale, t, exp, kp) -> Motion:
    t3 = np.zeros(3)
    flat_t = np.ravel(t).astype(np.float64)
    t3[: min(3, flat_t.size)] = flat_t[:3]
    return Motion(
        pitch=angles[0],
        yaw=angles[1],
        roll=angles[2],
        scale=float(np.ravel(scale)[0]),
        t=t3,
        exp=np.asarray(exp, np.float64).reshape(N_KP, 3),
        kp=np.asarray(kp, np.float64).reshape(N_KP, 3),
    )


class LivePortraitNetworks:
    """The pack's appearance, motion, stitching and warp + decoder networks."""

    def __init__(self, pack: ModelPack) -> None:
        self.appearance_model = PackModel(pack, "appearance_feature_extractor")
        self.motion_model = PackModel(pack, "motion_extractor")
        self.warp_model = PackModel(pack, "warping_spade")
        self.stitch_model = PackModel(pack, "stitching") if "stitching" in pack.files else None
        # The retargeting MLPs (optional; ``retarget.py`` runs them): same input layout and a
        # [1, 63] delta in both FLP's and FaceFusion's files, read by place.
        self.eye_model = PackModel(pack, "stitching_eye") if "stitching_eye" in pack.files else None
        self.lip_model = PackModel(pack, "stitching_lip") if "stitching_lip" in pack.files else None
        self.facefusion = self.motion_model.label == "FaceFusion"

    @property
    def labels(self) -> dict[str, str]:
        models = {
            "appearance_feature_extractor": self.appearance_model,
            "motion_extractor": self.motion_model,
            "warping_spade": self.warp_model,
            "stitching": self.stitch_model,
            "stitching_eye": self.eye_model,
            "stitching_lip": self.lip_model,
        }
        return {k: m.label for k, m in models.items() if m is not None}

    def appearance(self, image: np.ndarray) -> np.ndarray:
        """[1, 32, 16, 64, 64] appearance volume of a [1, 3, 256, 256] input."""
        name = "input" if self.appearance_model.label == "FaceFusion" else "img"
        return self.appearance_model({name: image})[0]

    def motion(self, image: np.ndarray) -> Motion:
        """The face's pose, scale, translation, expression and canonical keypoints."""
        if self.motion_model.label == "FaceFusion":
            # Degrees already (the bin expectation is inside the graph), in FF's order.
            pitch, yaw, roll, scale, t, exp, kp = self.motion_model({"input": image})
            angles = [float(np.ravel(a)[0]) for a in (pitch, yaw, roll)]
        else:
            out = self.motion_model.named({"img": image})
            pitch, yaw, roll = (out[k] for k in ("pitch", "yaw", "roll"))
            scale, t, exp, kp = out["scale"], out["t"], out["exp"], out["kp"]
            angles = [float(headpose_degrees(a)[0]) for a in (pitch, yaw, roll)]
        return _motion(angles, scale, t, exp, kp)

    def stitch(self, x_s: np.ndarray, x_d: np.ndarray) -> np.ndarray:
        """The driving keypoints after the stitching network (unchanged without one)."""
        if self.stitch_model is None:
            return x_d
        if self.stitch_model.label == "FaceFusion":
            # FF's stitcher applies the deltas itself: 'source' = driving, 'target' = photo.
            out = self.stitch_model({"source": x_d[None], "target": x_s[None]})[0]
            return np.asarray(out, np.float64).reshape(N_KP, 3)
        feat = np.concatenate([x_s.reshape(1, -1), x_d.reshape(1, -1)], axis=1)
        delta = np.asarray(self.stitch_model({"input": feat})[0], np.float64).reshape(-1)
        stitched = x_d + delta[: N_KP * 3].reshape(N_KP, 3)
        stitched[:, :2] += delta[N_KP * 3 : N_KP * 3 + 2]
        return stitched

    def warp(self, feature: np.ndarray, x_s: np.ndarray, x_d: np.ndarray) -> np.ndarray:
        """[512, 512, 3] RGB in 0..1: the warp + decoder for source and driving keypoints."""
        if self.warp_model.label == "FaceFusion":
            feeds = {"feature_volume": feature, "source": x_d[None], "target": x_s[None]}
        else:
            feeds = {"feature_3d": feature, "kp_driving": x_d[None], "kp_source": x_s[None]}
        return self.warp_model(feeds)[0][0].transpose(1, 2, 0)


class DittoNetworks:
    """A Ditto pack's renderer networks behind ``LivePortraitNetworks``' interface.

    Ditto's files are LivePortrait's networks under other tensor names
    (``core/models/*.py`` of antgroup/ditto-talkinghead): the appearance and motion
    extractors read ``image``; the motion extractor's outputs are FasterLivePortrait's
    (bins, ``t``, ``exp``, ``scale``, ``kp``); ``stitch_network`` returns the stitched driving
    keypoints itself; LivePortrait's one warp + SPADE file is ``warp_network`` (a [1, 256,
    64, 64] feature) followed by ``decoder`` (RGB 0..1 at 512)."""

    def __init__(self, pack: ModelPack) -> None:
        self.appearance_model = PackModel(pack, "appearance_extractor", DITTO_MODELS)
        self.motion_model = PackModel(pack, "motion_extractor", DITTO_MODELS)
        self.warp_model = PackModel(pack, "warp_network", DITTO_MODELS)
        self.decoder_model = PackModel(pack, "decoder", DITTO_MODELS)
        self.stitch_model = PackModel(pack, "stitch_network", DITTO_MODELS)
        self.eye_model: PackModel | None = None  # Ditto ships no retargeting networks
        self.lip_model: PackModel | None = None

    @property
    def labels(self) -> dict[str, str]:
        return {}

    def appearance(self, image: np.ndarray) -> np.ndarray:
        return self.appearance_model({"image": image})[0]

    def motion_outputs(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """The motion extractor's raw outputs by name (bins, ``t``, ``exp``, ``scale``, ``kp``)."""
        return self.motion_model.named({"image": image})

    def motion(self, image: np.ndarray) -> Motion:
        return self.motion_of(self.motion_outputs(image))

    @staticmethod
    def motion_of(out: Mapping[str, np.ndarray]) -> Motion:
        """The motion extractor's raw outputs as a ``Motion`` (angles in degrees)."""
        angles = [float(headpose_degrees(out[k])[0]) for k in ("pitch", "yaw", "roll")]
        return _motion(angles, out["scale"], out["t"], out["exp"], out["kp"])

    def stitch(self, x_s: np.ndarray, x_d: np.ndarray) -> np.ndarray:
        out = self.stitch_model({"kp_source": x_s[None], "kp_driving": x_d[None]})[0]
        return np.asarray(out, np.float64).reshape(N_KP, 3)

    def warp(self, feature: np.ndarray, x_s: np.ndarray, x_d: np.ndarray) -> np.ndarray:
        feeds = {"feature_3d": feature, "kp_source": x_s[None], "kp_driving": x_d[None]}
        warped = self.warp_model(feeds)[0]
        return self.decoder_model({"feature": warped})[0][0].transpose(1, 2, 0)
