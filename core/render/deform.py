"""Where the face's control points go for one frame of a MotionTrack: the composer.

The source face gives ~500 control points: the 468 landmarks (3-D), the irises, and a ring
around the head that expressions leave still. ``Deformer`` measures the portrait once (its
upright ``FaceFrame``, the control points, each feature's geometry) and, per frame, asks
the feature modules where their points go: ``expression`` adds the mouth (``mouth``), lids
(``eyes``) and brows (``brows``) in the face's own upright frame; ``targets`` then applies
the head's rigid pose (``head``) as far as ``head_weight`` says. Pure numpy: the renderer
turns these into a dense warp. Sign conventions: see ``head`` and ``eyes``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ..face import regions as fr
from ..face.source import SourceFace
from . import eyes, head
from .brows import move_brows
from .frame import FaceFrame
from .head import HeadPose
from .interior import TeethSizes
from .mouth import Mouth
from .tones import PhotoTeeth

RING_COUNT = 24
# Ring of still points (expressions do not reach past it): radii in face widths / heights.
RING = (0.95, 1.0)


class Deformer:
    """Precomputes the face's frame and weights once; ``targets`` runs per frame."""

    def __init__(self, face: SourceFace, photo_teeth: PhotoTeeth | None = None):
        """``photo_teeth``: teeth the photo shows (``tones.find_photo_teeth``), if known."""
        lm = face.landmarks.astype(np.float64)
        self.face = face
        self.angle = face.roi.angle
        self.frame = FaceFrame.of(face)
        self.axes = self.frame.axes  # rows: face-right and face-down in the image
        self.centre = self.frame.centre
        self.fw, self.fh = self.frame.fw, self.frame.fh
        self.up = self._to_face(lm[:, :2])  # the landmarks in the face frame
        self.pivot = head.head_pivot(self.frame, lm)
        self._build_points(lm)
        self.mouth = Mouth(lm, self.frame, self.up, photo_teeth)
        self.mouth_centre = self.mouth.centre
        self.photo_gap = self.mouth.photo_gap

    # -- geometry helpers ---------------------------------------------------------------
    def _to_face(self, pts: np.ndarray) -> np.ndarray:
        """Image pixels -> upright face frame (x along the eyes, y down the face)."""
        return self.frame.to_face(pts)

    def _build_points(self, lm: np.ndarray) -> None:
        iris = self.face.iris.reshape(-1, 3).astype(np.float64)
        t = np.linspace(0, 2 * math.pi, RING_COUNT, endpoint=False)
        local = np.stack([RING[0] * self.fw * np.cos(t), RING[1] * self.fh * np.sin(t)], 1)
        ring_xy = local @ self.axes + self.centre
        # Depth of the head's outline: the mean depth of the face oval's landmarks; each ring
        # point takes the depth of the oval landmark nearest its direction, so the side of
        # the head (ears, hair) keeps the depth of the cheek next to it.
        oval = lm[list(fr.FACE_OVAL)]
        self.outline_z = float(oval[:, 2].mean())
        oval_dir = self._to_face(oval[:, :2])
        oval_angle = np.arctan2(oval_dir[:, 1] / self.fh, oval_dir[:, 0] / self.fw)
        gap = np.angle(np.exp(1j * (t[:, None] - oval_angle[None, :])))
        ring_z = oval[np.abs(gap).argmin(1), 2]
        ring = np.concatenate([ring_xy, ring_z[:, None]], 1)
        self.depth_range = (float(lm[:, 2].min()), float(oval[:, 2].max()))
        self.source = np.concatenate([lm, iris, ring])  # [N, 3]
        self.n_landmarks = len(lm)
        self.n_face = len(lm) + len(iris)  # landmarks and irises; the ring follows

    # -- the jaw (``mouth``) -------------------------------------------------------------
    def jaw_share(self, xy: np.ndarray, close: float = 0.0) -> np.ndarray:
        """How much of the jaw's drop each image point [..., 2] follows (``Mouth``)."""
        return self.mouth.jaw_share(xy, close)

    def jaw_weights(self, ch: Mapping[str, float]) -> np.ndarray:
        """[468] share of the jaw's drop each landmark follows this frame."""
        return self.mouth.jaw_weights(ch)

    def jaw_vector(self, ch: Mapping[str, float]) -> np.ndarray:
        """[2] image-pixel drop of everything that follows the jaw fully, this frame."""
        return self.mouth.jaw_vector(ch)

    # -- the head (``head``) -------------------------------------------------------------
    def head_weight(self, xy: np.ndarray) -> np.ndarray:
        """How much of the head's pose each image point [..., 2] follows (1 on the head)."""
        return head.head_weight(self.frame, xy)

    def head_extent(self) -> np.ndarray:
        """[M, 2] image points on the outline where the head's influence ends."""
        return head.head_extent(self.frame)

    def pose(self, ch: Mapping[str, float]) -> HeadPose:
        return head.pose(ch, self.frame, self.pivot)

    # -- per frame ---------------------------------------------------------------------
    def expression(self, ch: Mapping[str, float]) -> np.ndarray:
        """[N, 2] displacement in the upright face frame for expression channels."""
        disp = np.zeros((len(self.source), 2))
        self.mouth.move(ch, disp)
        eyes.move_lids(ch, self.up, disp)
        move_brows(ch, self.up, self.fh, disp)
        return disp

    def expression_targets(self, ch: Mapping[str, float]) -> np.ndarray:
        """[N, 3] control points after the expression alone (z unchanged)."""
        moved = self.source.copy()
        moved[:, :2] += self.frame.from_face_vec(self.expression(ch))
        return moved

    def targets(self, ch: Mapping[str, float]) -> np.ndarray:
        """[N, 2] image-pixel positions of every control point for these channel values."""
        moved = self.expression_targets(ch)
        posed = self.pose(ch).apply(moved)
        w = self.head_weight(self.source[:, :2])[:, None]
        return moved[:, :2] + w * (posed - moved[:, :2])

    def mouth_opening(self, ch: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray] | None:
        """Top and bottom edges ([K, 2] image pixels, posed) of the newly opened gap between
        the lips, or None when the lips did not part beyond the photo's (``Mouth.opening``)."""
        return self.mouth.opening(self.source, self.expression_targets(ch), self.pose(ch))

    def teeth(self, ch: Mapping[str, float]) -> TeethSizes:
        """Pixels of teeth to paint in the opened mouth this frame."""
        return self.mouth.teeth(self.pose(ch).scale)

    def lid_lines(
        self, ch: Mapping[str, float]
    ) -> list[tuple[np.ndarray, np.ndarray, float, float]]:
        """Per eye with a blink: (open lid line, closed lid's edge, eye opening, blink),
        posed, in image pixels (``eyes.lid_lines``)."""
        return eyes.lid_lines(ch, self.expression_targets(ch), self.pose(ch), self.frame)

    def gaze_shift(self, ch: Mapping[str, float]) -> np.ndarray:
        """[2, 2] iris shift (image pixels, in the photo) for each eye, subject's right first."""
        return eyes.gaze_shift(ch, self.up, self.frame)
