"""The LivePortrait renderer: our MotionTrack drives LivePortrait's warp + decoder.

Once per take: the LP crop from our landmarks (``crop``), the appearance volume and the
photo's keypoints (``networks``). Per frame: the head channels move the photo's pose and
the expression channels add ``exp`` offsets (``keypoints``, ``expression``; a track with
``lp_exp_*`` channels, such as Ditto's, gives the offsets directly), the stitching
network adjusts the driving keypoints, the warp + decoder makes the 512 crop, and the
paste-back (``paste``) puts it into the full frame. So generate, retiming, curve edits and
Re-render work unchanged with this renderer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from ...face.source import SourceFace
from ...stages import Renderer
from .crop import CROP_SIZE, lp_crop, network_input
from .expression import frame_offsets
from .keypoints import Motion, driving_motion
from .networks import DittoNetworks, LivePortraitNetworks
from .paste import PasteBack

if TYPE_CHECKING:
    from ...runtime.packs import ModelPack


class LivePortraitRenderer(Renderer):
    """Frames of one portrait from a ``liveportrait`` or ``ditto`` pack (batch 1: every
    export is)."""

    batch_size = 1

    def __init__(self, pack: ModelPack, image: np.ndarray, face: SourceFace) -> None:
        self.networks: LivePortraitNetworks | DittoNetworks = (
            DittoNetworks(pack) if pack.profile == "ditto" else LivePortraitNetworks(pack)
        )
        self.crop = lp_crop(face)
        net_in = network_input(self.crop.crop(image))
        self.feature = self.networks.appearance(net_in)
        self.source: Motion = self.networks.motion(net_in)
        self.x_s = self.source.keypoints()
        self.paste = PasteBack(image, self.crop)
        self._size = (int(image.shape[1]), int(image.shape[0]))

    @property
    def image_size(self) -> tuple[int, int]:
        return self._size

    @property
    def changing_box(self) -> tuple[int, int, int, int]:
        """The crop square's bounds: the paste-back never writes outside them."""
        return self.crop.box

    def driving(self, channels: Mapping[str, float]) -> Motion:
        """The photo's LP motion moved by one frame's channels (before stitching)."""
        offsets = frame_offsets(channels)
        return driving_motion(self.source, channels, offsets, self.crop.face_width, CROP_SIZE)

    def driving_keypoints(self, channels: Mapping[str, float]) -> np.ndarray:
        """[21, 3] driving keypoints after stitching: what the warp receives."""
        return self.networks.stitch(self.x_s, self.driving(channels).keypoints())

    def render_crop(self, channels: Mapping[str, float]) -> np.ndarray:
        """[512, 512, 3] RGB 0..1: the generator's output for one frame."""
        return self.networks.warp(self.feature, self.x_s, self.driving_keypoints(channels))

    def render(self, channels: Mapping[str, float]) -> np.ndarray:
        return self.paste(self.render_crop(channels))
