"""LivePortrait's eye and lip retargeting networks, driven by our blink and jaw channels.

LivePortrait's two retargeting MLPs (``stitching_eye``, ``stitching_lip``) take the photo's
keypoints ``x_s`` (63, flattened [21, 3]) followed by open ratios and return a [21, 3] delta
that is added to the driving keypoints before stitching (LP ``live_portrait_wrapper.py``
``retarget_eye``/``retarget_lip``; ``gradio_pipeline.py`` ``execute_image_retargeting``;
FaceFusion's ``face_editor/core.py`` ``edit_eye_open``/``edit_lip_open``):

- eye: ``[x_s, c_s_left, c_s_right, c_d]``: the photo's two eye-open ratios (LP's "left"
  eye first), then one target ratio for both eyes;
- lip: ``[x_s, c_s_lip, c_d]``: the photo's lip-open ratio, then the target.

A ratio is a gap over a width on 2-D landmarks (``calculate_distance_ratio``): for an eye
the lid midpoints' distance over the eye corners' distance, for the lips the inner lips'
midpoints over the mouth corners. LP measures them on its 203-point landmarks; we measure
the same points on our MediaPipe mesh (``EYE_POINTS``, ``LIP_POINTS``; docs/packs.md says
why these). The ratios are invariant to LP's crop (a rotation and a scale), so the photo's
landmarks in pixels serve.

The targets come from our channels: a blink scales the photo's eye ratio to 0 (closed),
``eyeWide`` opens it by ``WIDE_GAIN`` of itself; the lip gap ``jawOpen - mouthClose`` adds
``LIP_GAIN`` per unit to the photo's lip ratio (within 0..``LIP_MAX``). LP's network takes a
single eye target, so it gets the two eyes' mean and the expression table keeps only each
eye's difference from it (a wink). Each delta is taken relative to the network's delta at
the photo's own ratios (ours: so neutral channels leave ``x_d = x_s`` and the motion is
continuous there).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from .keypoints import N_KP

if TYPE_CHECKING:
    from ...face.source import SourceFace
    from .networks import PackModel

# MediaPipe mesh points for LP's ratios: (lid top, lid bottom, corner, corner) per eye and
# (inner upper lip, inner lower lip, corner, corner). LP's "left" eye (203-point 0..23,
# image left as FaceFusion's 68-point 36..41 for the same input) is the subject's right.
EYE_POINTS = ((159, 145, 33, 133), (386, 374, 263, 362))
LIP_POINTS = (13, 14, 61, 291)
EPS = 1e-6  # as LP's calculate_distance_ratio

WIDE_GAIN = 0.2  # eyeWide 1 opens the eye ratio by a fifth of the photo's (as the table's row)
# Lip ratio per unit of jawOpen - mouthClose, at most LIP_MAX: jaw 1 -> 1.0, FaceFusion's
# "open" target; speech's mean and 90th-percentile jaw (0.23, 0.38) -> 0.23, 0.38, the
# inner-lip gaps over a mouth 0.30-0.36 face widths wide that the calibrated warp renderer
# draws there (0.06-0.09, 0.11-0.14 face widths; docs/packs.md).
LIP_GAIN = 1.0
LIP_MAX = 1.0

EYE_CHANNELS = ("eyeBlinkLeft", "eyeBlinkRight", "eyeWideLeft", "eyeWideRight")
LIP_CHANNELS = ("jawOpen", "mouthClose")


def distance_ratio(points: np.ndarray, top: int, bottom: int, a: int, b: int) -> float:
    """|top - bottom| / (|a - b| + eps) on 2-D points (LP ``calculate_distance_ratio``)."""
    p = np.asarray(points, np.float64)[:, :2]
    return float(np.linalg.norm(p[top] - p[bottom]) / (np.linalg.norm(p[a] - p[b]) + EPS))


def eye_ratios(landmarks: np.ndarray) -> np.ndarray:
    """[2]: LP's eye-open ratios (its "left" eye, the subject's right, first)."""
    return np.array([distance_ratio(landmarks, *points) for points in EYE_POINTS])


def lip_ratio(landmarks: np.ndarray) -> float:
    """LP's lip-open ratio: inner lip gap over mouth width."""
    return distance_ratio(landmarks, *LIP_POINTS)


def _value(channels: Mapping[str, float], name: str) -> float:
    return float(channels.get(name, 0.0))


def eye_target(source: np.ndarray, channels: Mapping[str, float]) -> float:
    """One target eye ratio for both eyes: the photo's mean ratio scaled by the eyes' mean
    openness (blink 1 -> 0, closed; eyeWide 1 -> 1 + ``WIDE_GAIN``)."""
    blink = (_value(channels, "eyeBlinkLeft") + _value(channels, "eyeBlinkRight")) / 2.0
    wide = (_value(channels, "eyeWideLeft") + _value(channels, "eyeWideRight")) / 2.0
    return float(np.mean(source)) * max(0.0, 1.0 - blink + WIDE_GAIN * wide)


def lip_target(source: float, channels: Mapping[str, float]) -> float:
    """The target lip ratio: the photo's plus ``LIP_GAIN`` x (jawOpen - mouthClose), within
    0 (lips shut, FaceFusion's closed target) and ``LIP_MAX``; the photo's own at 0 gap."""
    gap = _value(channels, "jawOpen") - _value(channels, "mouthClose")
    if gap == 0.0:
        return source
    return min(max(0.0, source + LIP_GAIN * gap), max(LIP_MAX, source))


class Retargeting:
    """The pack's eye and lip retargeting networks (either may be absent) for one photo."""

    def __init__(
        self,
        face: SourceFace,
        x_s: np.ndarray,
        eye_model: PackModel | None,
        lip_model: PackModel | None,
    ) -> None:
        self.eye_model = eye_model
        self.lip_model = lip_model
        self.x_s = np.asarray(x_s, np.float64).reshape(1, N_KP * 3)
        self.eye_source = eye_ratios(face.landmarks)
        self.lip_source = lip_ratio(face.landmarks)
        self._eye_zero = self._eye(float(np.mean(self.eye_source))) if eye_model else None
        self._lip_zero = self._lip(self.lip_source) if lip_model else None

    @property
    def used(self) -> tuple[str, ...]:
        """The retargeting networks that run (profile keys)."""
        return tuple(
            key
            for key, model in (("stitching_eye", self.eye_model), ("stitching_lip", self.lip_model))
            if model is not None
        )

    def eye_input(self, target: float) -> np.ndarray:
        """[1, 66]: ``[x_s, c_s_left, c_s_right, c_d]``."""
        return np.concatenate([self.x_s, self.eye_source[None], [[target]]], axis=1)

    def lip_input(self, target: float) -> np.ndarray:
        """[1, 65]: ``[x_s, c_s_lip, c_d]``."""
        return np.concatenate([self.x_s, [[self.lip_source, target]]], axis=1)

    def _eye(self, target: float) -> np.ndarray:
        assert self.eye_model is not None
        out = self.eye_model({"input": self.eye_input(target)})[0]
        return np.asarray(out, np.float64).reshape(N_KP, 3)

    def _lip(self, target: float) -> np.ndarray:
        assert self.lip_model is not None
        out = self.lip_model({"input": self.lip_input(target)})[0]
        return np.asarray(out, np.float64).reshape(N_KP, 3)

    def delta(self, channels: Mapping[str, float]) -> np.ndarray:
        """[21, 3] to add to the driving keypoints before stitching: each network's delta at
        the frame's target minus its delta at the photo's own ratios (0 when neutral)."""
        out = np.zeros((N_KP, 3))
        if self.eye_model is not None and self._eye_zero is not None:
            target = eye_target(self.eye_source, channels)
            if target != float(np.mean(self.eye_source)):
                out += self._eye(target) - self._eye_zero
        if self.lip_model is not None and self._lip_zero is not None:
            target = lip_target(self.lip_source, channels)
            if target != self.lip_source:
                out += self._lip(target) - self._lip_zero
        return out

    def table_channels(self, channels: Mapping[str, float]) -> dict[str, float]:
        """The channels left for the expression table: without ``jawOpen``/``mouthClose``
        when the lip network runs; with each eye's blink and wide as its difference from the
        two eyes' mean when the eye network runs (the network moves the mean)."""
        out = dict(channels)
        if self.lip_model is not None:
            for name in LIP_CHANNELS:
                out.pop(name, None)
        if self.eye_model is not None:
            for left, right in (
                ("eyeBlinkLeft", "eyeBlinkRight"),
                ("eyeWideLeft", "eyeWideRight"),
            ):
                if left in out or right in out:
                    mean = (_value(out, left) + _value(out, right)) / 2.0
                    out[left] = _value(out, left) - mean
                    out[right] = _value(out, right) - mean
        return out
