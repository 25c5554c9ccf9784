"""The LivePortrait renderer: our MotionTrack drives LivePortrait's warp + decoder.

Once per take: the LP crop from our landmarks (``crop``), the appearance volume and the
photo's keypoints (``networks``). Per frame: the head channels move the photo's pose and
the expression channels add ``exp`` offsets (``keypoints``, ``expression``; a track with
``lp_exp_*`` channels, such as Ditto's, gives the offsets directly), the eye and lip
retargeting networks, when the pack has them, add their deltas for the blink and jaw
channels in place of those channels' table rows (``retarget``), the stitching network
adjusts the driving keypoints, the warp + decoder makes the 512 crop, and the
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
from .expression import frame_offsets, has_lp_channels
from .keypoints import Motion, driving_motion
from .networks import DittoNetworks, LivePortraitNetworks
from .paste import PasteBack
from .retarget import Retargeting

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
        nets = self.networks
        self.retargeting = (
            Retargeting(face, self.x_s, nets.eye_model, nets.lip_model)
            if nets.eye_model is not None or nets.lip_model is not None
            else None
        )
        self.paste = PasteBack(image, self.crop)
        self._size = (int(image.shape[1]), int(image.shape[0]))

    @property
    def image_size(self) -> tuple[int, int]:
        return self._size

    @property
    def changing_box(self) -> tuple[int, int, int, int]:
        """The crop square's bounds: the paste-back never writes outside them."""
        return self.crop.box

    def _retargets(self, channels: Mapping[str, float]) -> bool:
        """Whether the retargeting networks drive this frame (never with ``lp_exp_*``)."""
        return self.retargeting is not None and not has_lp_channels(channels)

    def driving(self, channels: Mapping[str, float]) -> Motion:
        """The photo's LP motion moved by one frame's channels (before the retargeting
        deltas and stitching); the table leaves out what the retargeting networks drive."""
        table = channels
        if self.retargeting is not None and self._retargets(channels):
            table = self.retargeting.table_channels(channels)
        offsets = frame_offsets(table)
        return driving_motion(self.source, channels, offsets, self.crop.face_width, CROP_SIZE)

    def retarget_delta(self, channels: Mapping[str, float]) -> np.ndarray:
        """[21, 3]: the eye and lip retargeting networks' delta for one frame (0 without)."""
        if self.retargeting is not None and self._retargets(channels):
            return self.retargeting.delta(channels)
        return np.zeros_like(self.x_s)

    def driving_keypoints(self, channels: Mapping[str, float]) -> np.ndarray:
        """[21, 3] driving keypoints after stitching: what the warp receives. As LP, the
        retargeting deltas are added to the driving keypoints before stitching
        (``gradio_pipeline.py`` ``execute_image_retargeting``)."""
        x_d = self.driving(channels).keypoints() + self.retarget_delta(channels)
        return self.networks.stitch(self.x_s, x_d)

    def render_crop(self, channels: Mapping[str, float]) -> np.ndarray:
        """[512, 512, 3] RGB 0..1: the generator's output for one frame."""
        return self.networks.warp(self.feature, self.x_s, self.driving_keypoints(channels))

    def render(self, channels: Mapping[str, float]) -> np.ndarray:
        return self.paste(self.render_crop(channels))
