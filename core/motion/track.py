"""MotionTrack: the one representation every generator writes and every renderer reads.

Frames x named channels (ARKit names for expressions, degrees for angles), saved as
``motion.npz`` with ``data``, ``channels``, ``fps`` and ``meta`` (JSON text).
"""

from __future__ import annotations

import errno
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import OutputError

HEAD_CHANNELS = ("head_yaw", "head_pitch", "head_roll", "head_x", "head_y", "head_scale")
GAZE_CHANNELS = ("gaze_yaw", "gaze_pitch")
EXPRESSION_CHANNELS = (
    "eyeBlinkLeft",
    "eyeBlinkRight",
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthFrownLeft",
    "mouthFrownRight",
    "mouthPressLeft",
    "mouthPressRight",
    "browInnerUp",
    "browDownLeft",
    "browDownRight",
    # Added for lip sync (f/v tuck the lower lip) and the "surprised" emotion; neutral 0.
    "mouthRollLower",
    "browOuterUpLeft",
    "browOuterUpRight",
    "eyeWideLeft",
    "eyeWideRight",
)
STANDARD_CHANNELS = HEAD_CHANNELS + GAZE_CHANNELS + EXPRESSION_CHANNELS
# Value of each channel that means "as in the photo".
NEUTRAL = {"head_scale": 1.0}


@dataclass
class MotionTrack:
    fps: float
    channels: tuple[str, ...]
    data: np.ndarray  # float32 [n_frames, n_channels]
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.channels = tuple(self.channels)
        self.data = np.asarray(self.data, np.float32)
        if self.data.ndim != 2 or self.data.shape[1] != len(self.channels):
            raise ValueError(
                f"data shape {self.data.shape} does not fit {len(self.channels)} channels"
            )
        if len(set(self.channels)) != len(self.channels):
            raise ValueError("channel names must be unique")

    @classmethod
    def neutral(
        cls, n_frames: int, fps: float, channels: tuple[str, ...] = STANDARD_CHANNELS
    ) -> MotionTrack:
        """A still track: every channel at its neutral value."""
        data = np.zeros((n_frames, len(channels)), np.float32)
        for i, name in enumerate(channels):
            data[:, i] = NEUTRAL.get(name, 0.0)
        return cls(fps, channels, data)

    @property
    def n_frames(self) -> int:
        return int(self.data.shape[0])

    def index(self, name: str) -> int:
        return self.channels.index(name)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.data[:, self.index(name)]

    def __setitem__(self, name: str, values) -> None:
        self.data[:, self.index(name)] = values

    def frame(self, i: int) -> dict[str, float]:
        """Channel values of frame ``i`` (0-based) by name."""
        return dict(zip(self.channels, map(float, self.data[i]), strict=True))

    def save(self, path: str | Path) -> None:
        """Write ``motion.npz`` atomically (a temp file renamed over the target).

        The archive is built in memory first: written straight into a file, a full disk
        left NumPy's zip writer half-closed, and it printed a second traceback on exit."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        buffer = io.BytesIO()
        np.savez(
            buffer,
            data=self.data,
            channels=np.array(self.channels),
            fps=np.float64(self.fps),
            meta=json.dumps(self.meta),
        )
        try:
            with open(tmp, "wb") as fh:
                fh.write(buffer.getbuffer())
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if exc.errno == errno.ENOSPC:
                raise OutputError(
                    f"The disk is full while writing {path.name} in {path.parent}; free some "
                    "space and generate again."
                ) from exc
            raise OutputError(
                f"Could not write {path} ({exc.strerror}); check that the folder is writable "
                "and the disk has space."
            ) from exc

    @classmethod
    def load(cls, path: str | Path) -> MotionTrack:
        with np.load(Path(path), allow_pickle=False) as z:
            return cls(
                float(z["fps"]),
                tuple(str(c) for c in z["channels"]),
                z["data"].astype(np.float32),
                json.loads(str(z["meta"])),
            )
