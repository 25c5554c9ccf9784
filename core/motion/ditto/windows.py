"""Ditto's long-voice loop: overlapping 80-frame windows joined by a cross-fade.

After Ditto's ``core/atomic_components/audio2motion.py`` (offline mode) and
``stream_pipeline_offline.py``: windows start every 70 frames (80 minus an overlap of 10),
the last one padded by repeating its last condition row; each window is conditioned on the
motion frame just before its start (the photo's own motion for the first), so it continues
where the last one was; the 10 overlapping frames are cross-faded linearly (weight
``i / 10`` on the new window for ``i = 0..9``); the pose, scale and translation dims (the
first 202) are smoothed with a 3-frame moving average where windows join and once more over
the whole take. The sampler itself is ``sampler.DdimSampler``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .sampler import DdimSampler, Denoiser

SEQ_FRAMES = 80
OVERLAP = 10
STRIDE = SEQ_FRAMES - OVERLAP  # 70 new frames per window
SMOOTH_DIMS = 202  # scale 1 + pitch/yaw/roll bins 3 x 66 + t 3
SMOOTH_K = 3

FADE = (np.arange(OVERLAP, dtype=np.float32) / OVERLAP)[:, None]  # weight of the new window


def smooth(seq: np.ndarray, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Moving average over ``SMOOTH_K`` frames of the first ``SMOOTH_DIMS`` dims, for
    frames ``start..stop`` (read from the unsmoothed copy, as Ditto's ``_smo``)."""
    out = seq.copy()
    n, half = len(seq), SMOOTH_K // 2
    for i in range(max(0, start), min(n, n if stop is None else stop)):
        lo, hi = max(0, i - half), min(n, i + half + 1)
        out[i, :SMOOTH_DIMS] = seq[lo:hi, :SMOOTH_DIMS].mean(axis=0)
    return out


def join(done: np.ndarray, window: np.ndarray) -> np.ndarray:
    """``done`` with ``window`` appended: its first ``OVERLAP`` frames cross-faded over
    ``done``'s last ones, the joint smoothed."""
    head = done.copy()
    head[-OVERLAP:] = done[-OVERLAP:] * (1 - FADE) + window[:OVERLAP] * FADE
    out = np.concatenate([head, window[OVERLAP:]])
    return smooth(out, len(out) - STRIDE - OVERLAP, len(out) - STRIDE + 1)


def window_starts(n: int) -> list[int]:
    """First frame of each window for ``n`` frames (at least one window)."""
    return list(range(0, max(n, 1), STRIDE))


def padded(cond: np.ndarray, start: int) -> np.ndarray:
    """[SEQ_FRAMES, C] condition rows from ``start``, the last row repeated past the end."""
    rows = cond[start : start + SEQ_FRAMES]
    if len(rows) < SEQ_FRAMES:
        rows = np.concatenate([rows, np.repeat(rows[-1:], SEQ_FRAMES - len(rows), axis=0)])
    return rows


def sample_motion(
    sampler: DdimSampler,
    denoise: Denoiser,
    source: np.ndarray,
    cond: np.ndarray,
    progress: Callable[[float], None] | None = None,
) -> np.ndarray:
    """[n, dim] motion for ``n = len(cond)`` frames of condition rows; ``source`` [dim] is the
    photo's motion, the first window's conditioning frame."""
    n = len(cond)
    if n == 0:
        return np.zeros((0, source.size), np.float32)
    starts = window_starts(n)
    done: np.ndarray | None = None
    cond_frame = source.reshape(1, -1)
    for k, start in enumerate(starts):
        window = sampler.sample(denoise, cond_frame, padded(cond, start))
        done = smooth(window) if done is None else join(done, window)
        cond_frame = done[len(done) - OVERLAP - 1][None]  # the frame before the next window
        if progress is not None:
            progress((k + 1) / len(starts))
    assert done is not None
    return smooth(done[:n])
