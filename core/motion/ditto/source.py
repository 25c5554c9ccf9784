"""What Ditto's motion model needs to know about the portrait, from the pack and our analysis.

Ditto registers the photo by cropping it as LivePortrait does, running the motion extractor
on the 256 crop (``x_s_info``: pose bins, scale, translation, expression, canonical
keypoints) and measuring the eyes on MediaPipe's landmarks of the crop
(``core/atomic_components/source2info.py``). We place the same crop from the built-in
analysis' landmarks (``core/render/liveportrait/crop.py``, which the renderer uses too, so
motion and frames share one source) and run the pack's own motion extractor on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ...face.source import SourceFace
from ...render.liveportrait.crop import CROP_SIZE, LpCrop, lp_crop, network_input
from ...render.liveportrait.keypoints import Motion
from .conditions import eye_measures

if TYPE_CHECKING:
    from ...render.liveportrait.networks import DittoNetworks

MOTION_DIM = 265  # scale - 1, pitch/yaw/roll bins (66 each), t (3), exp (63)
# Where each part sits in a 265-wide motion row (Ditto's _cvt_LP_motion_info order).
PARTS = {
    "scale": slice(0, 1),
    "pitch": slice(1, 67),
    "yaw": slice(67, 133),
    "roll": slice(133, 199),
    "t": slice(199, 202),
    "exp": slice(202, 265),
}


@dataclass(frozen=True)
class DittoSource:
    """The photo as Ditto's motion model sees it."""

    row: np.ndarray  # [265] the photo's motion row (the first window's conditioning frame)
    motion: Motion  # the same in degrees (what the renderer starts from)
    canonical: np.ndarray  # [63] canonical keypoints (Ditto's "sc")
    eye_open: np.ndarray  # [2]
    eye_ball: np.ndarray  # [6]
    crop: LpCrop


def motion_row(outputs: dict[str, np.ndarray]) -> np.ndarray:
    """[265] from the motion extractor's outputs (scale stored minus 1, as Ditto does)."""
    parts = [np.ravel(outputs["scale"])[:1] - 1.0]
    parts += [np.ravel(outputs[k]) for k in ("pitch", "yaw", "roll", "t", "exp")]
    row = np.concatenate(parts).astype(np.float32)
    assert row.size == MOTION_DIM, row.size
    return row


def crop_landmarks(face: SourceFace, crop: LpCrop) -> tuple[np.ndarray, np.ndarray]:
    """The 468 landmarks and two iris centres in crop units (divided by the crop's size),
    z scaled as x and y, as MediaPipe reports them for the crop."""
    scale = float(np.linalg.norm(crop.to_crop[0, :2]))

    def moved(points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, np.float64)
        xy = p[:, :2] @ crop.to_crop[:, :2].T + crop.to_crop[:, 2]
        return np.c_[xy, p[:, 2] * scale] / CROP_SIZE

    return moved(face.landmarks), moved(face.iris[:, 0, :])


def ditto_source(networks: DittoNetworks, image: np.ndarray, face: SourceFace) -> DittoSource:
    crop = lp_crop(face)
    net_in = network_input(crop.crop(image))
    outputs = networks.motion_outputs(net_in)
    points, irises = crop_landmarks(face, crop)
    eye_open, eye_ball = eye_measures(points, irises)
    return DittoSource(
        row=motion_row(outputs),
        motion=networks.motion_of(outputs),
        canonical=np.ravel(outputs["kp"]).astype(np.float32),
        eye_open=eye_open,
        eye_ball=eye_ball,
        crop=crop,
    )
