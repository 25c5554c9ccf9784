"""HuBERT features at 25 frames a second, framed as Ditto's ``wav2feat`` frames them.

Ditto (antgroup/ditto-talkinghead ``core/atomic_components/wav2feat.py``) runs its streaming
HuBERT on windows of 6480 samples at 16 kHz (10 video frames of 640 samples plus 80), one
window every 5 video frames. HuBERT's convolutional front end makes one 1024-wide row per
320 samples (50 a second; 20 rows per window); of each window's rows Ditto keeps the ten
from the 14th-last to the 5th-last and averages them in pairs, giving 5 video frames. The
voice is padded with 2000 zeros in front (the window reaches 3 frames back and 2 ahead of
the 5 it describes) and one window of zeros behind, and the result is cut to
``ceil(seconds * 25)`` frames. Only the framing is Ditto's; this is our own code.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ...errors import ModelPackError

SAMPLE_RATE = 16000
FPS = 25
HOP = SAMPLE_RATE // FPS  # 640 samples per video frame
CHUNK = (3, 5, 2)  # frames of context before, frames kept, frames of context after
WINDOW = sum(CHUNK) * HOP + 80  # 6480 samples per HuBERT call
LEAD = WINDOW - (CHUNK[1] + CHUNK[2]) * HOP  # 2000 zeros in front
KEEP = slice(-(CHUNK[1] + CHUNK[2]) * 2, -CHUNK[2] * 2)  # rows [-14:-4]: 5 frames x 2 rows
WIDTH = 1024

Encoder = Callable[[np.ndarray], np.ndarray]  # [1, WINDOW] float32 -> [rows, 1024]


def n_frames(n_samples: int) -> int:
    """Ditto's frame count for a voice of ``n_samples`` at 16 kHz: ceil(seconds * 25)."""
    return math.ceil(n_samples / SAMPLE_RATE * FPS)


def windows(samples: np.ndarray) -> list[np.ndarray]:
    """The [1, 6480] float32 windows HuBERT reads, one per 5 video frames."""
    voice = np.asarray(samples, np.float32).reshape(-1)
    padded = np.concatenate([np.zeros(LEAD, np.float32), voice, np.zeros(WINDOW, np.float32)])
    starts = range(0, n_frames(voice.size) * HOP, CHUNK[1] * HOP)
    return [padded[s : s + WINDOW][None] for s in starts]


def frame_rows(encoding: np.ndarray, file: str = "hubert.onnx") -> np.ndarray:
    """[5, 1024]: the kept rows of one window's encoding, averaged in pairs."""
    rows = np.asarray(encoding, np.float32)
    rows = rows.reshape(-1, rows.shape[-1]) if rows.ndim == 3 else rows
    if rows.ndim != 2 or rows.shape[1] != WIDTH or rows.shape[0] < -KEEP.start:
        raise ModelPackError(
            f"{file} gave features of shape {list(np.shape(encoding))} for a {WINDOW}-sample "
            f"window, where Ditto's HuBERT gives 20 rows of {WIDTH}; use Ditto's hubert.onnx."
        )
    return rows[KEEP].reshape(CHUNK[1], 2, WIDTH).mean(axis=1)


def hubert_features(samples: np.ndarray, encode: Encoder, file: str = "hubert.onnx") -> np.ndarray:
    """[ceil(seconds * 25), 1024] float32 features of a 16 kHz mono voice."""
    count = n_frames(np.asarray(samples).size)
    if count == 0:
        return np.zeros((0, WIDTH), np.float32)
    parts = [frame_rows(encode(w), file) for w in windows(samples)]
    return np.concatenate(parts)[:count]
