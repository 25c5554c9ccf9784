"""Audio described once per video frame: loudness, voicing, pitch and log-mel bands.

Everything downstream (lip motion, head motion, blinks) is driven per video frame, so the
features are sampled at the render frame rate (any fps, e.g. 23.976 or 29.97) rather than at
a fixed hop: frame ``i`` is centred on ``i / fps`` seconds.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft as sfft

from .load import SAMPLE_RATE, SILENCE_PEAK_DBFS

N_MELS = 40
MEL_FMIN_HZ = 60.0
MEL_FMAX_HZ = 7600.0
PITCH_MIN_HZ = 60.0
PITCH_MAX_HZ = 400.0
VOICING_THRESHOLD = 0.45
VOICING_MIN_DBFS = -50.0
PITCH_WINDOW_MIN_S = 0.040
LOUDNESS_FLOOR_DB = -100.0
LOUDNESS_RANGE_DB = 40.0
_BLOCK_FRAMES = 2048  # video frames analysed per batch: bounds memory for long clips


@dataclass(frozen=True, eq=False)
class AudioFeatures:
    """Audio features sampled once per video frame; frame ``i`` is centred on ``i / fps`` s.

    All arrays are read-only float32 with ``n_frames`` rows.
    """

    fps: float
    loudness_db: np.ndarray  # [n] RMS level in dBFS, floored at -100
    loudness: np.ndarray  # [n] 0..1: 1 at the clip's speech level, 0 at 40 dB below it
    voicing: np.ndarray  # [n] 0..1 periodicity (normalised autocorrelation peak)
    pitch_hz: np.ndarray  # [n] F0 in Hz where voicing >= 0.45, else 0
    mel: np.ndarray  # [n, 40] log10 mel band power

    @property
    def n_frames(self) -> int:
        return int(self.loudness_db.shape[0])

    @property
    def times(self) -> np.ndarray:
        """Centre time in seconds of each frame."""
        return np.arange(self.n_frames, dtype=np.float64) / self.fps


def n_video_frames(n_samples: int, fps: float, sr: int = SAMPLE_RATE) -> int:
    """Video frames needed to cover ``n_samples`` at ``fps``: ceil(duration * fps), at least 1."""
    _check_fps(fps)
    if sr <= 0:
        raise ValueError(f"Sample rate must be positive, got {sr}.")
    if n_samples < 0:
        raise ValueError(f"Sample count must not be negative, got {n_samples}.")
    return max(1, math.ceil(n_samples * fps / sr - 1e-9))


def _check_fps(fps: float) -> None:
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real) or not math.isfinite(fps):
        raise ValueError(f"Frame rate must be a finite number, got {fps!r}.")
    if fps <= 0:
        raise ValueError(f"Frame rate must be positive, got {fps!r}.")


def _mel_filterbank(n_fft: int, sr: int) -> np.ndarray:
    """HTK-scale triangular filters (peak 1), shape [N_MELS, n_fft // 2 + 1]."""

    def hz_to_mel(f: np.ndarray | float) -> np.ndarray:
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)

    def mel_to_hz(m: np.ndarray) -> np.ndarray:
        return 700.0 * (10.0 ** (m / 2595.0) - 1.0)

    fmax = min(MEL_FMAX_HZ, sr / 2.0)
    edges = mel_to_hz(np.linspace(hz_to_mel(MEL_FMIN_HZ), hz_to_mel(fmax), N_MELS + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lo) / (mid - lo)
    falling = (hi - freqs[None, :]) / (hi - mid)
    return np.clip(np.minimum(rising, falling), 0.0, None)


def compute_features(samples: np.ndarray, fps: float, sr: int = SAMPLE_RATE) -> AudioFeatures:
    """Per-video-frame loudness, voicing, pitch and log-mel for mono ``samples`` at ``sr``.

    Frame ``i`` is a Hann window centred on ``i / fps`` (zeros beyond the clip's ends) of
    max(25 ms, 1.5 frame periods), capped at 64 ms; voicing and pitch use at least 40 ms.
    """
    _check_fps(fps)
    x = np.asarray(samples)
    if x.ndim != 1:
        raise ValueError(f"Samples must be a 1-D mono array, got shape {x.shape}.")
    x = np.nan_to_num(x.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    fps = float(fps)
    n = n_video_frames(x.shape[0], fps, sr)

    # Loudness and mel use the spec'd window; periodicity needs >= 40 ms to see ~2.5 periods
    # of a 60 Hz voice (shorter windows bias low F0 upward), so it gets a longer one at high
    # fps. Both are centred on the same instant, so one strided extraction serves both.
    win_len = int(round(sr * min(max(0.025, 1.5 / fps), 0.064)))
    ac_len = max(win_len, int(round(sr * PITCH_WINDOW_MIN_S)))
    inner = (ac_len - win_len) // 2  # offset of the short window inside the long one
    window = np.hanning(win_len + 2)[1:-1].astype(np.float32)  # no zero end points
    win_sum = float(window.sum())
    n_fft = 1 << int(math.ceil(math.log2(win_len)))
    win_pow = float(np.square(window).sum())
    ac_window = np.hanning(ac_len + 2)[1:-1].astype(np.float32)
    ac_win_sum = float(ac_window.sum())

    # Autocorrelation of the window itself, to undo its taper (Boersma 1993).
    lag_min = max(1, int(math.floor(sr / PITCH_MAX_HZ)))
    lag_max = min(int(math.ceil(sr / PITCH_MIN_HZ)), ac_len - 2)
    # Long enough that circular wrap-around cannot reach the lags we read.
    ac_fft = sfft.next_fast_len(ac_len + lag_max + 2, real=True)
    w_ac = sfft.irfft(np.abs(sfft.rfft(ac_window, ac_fft)) ** 2, ac_fft)
    w_ac = w_ac / w_ac[0]
    lags = np.arange(lag_min - 1, lag_max + 2)
    w_ac_lags = np.maximum(w_ac[lags], 1e-3)
    # Small bias toward shorter lags so that a period's double does not win a near-tie.
    octave_bias = 0.02 * np.log2(lags[1:-1] / lag_min)

    fbank = _mel_filterbank(n_fft, sr).astype(np.float32).T  # [bins, mels]

    half = ac_len // 2
    pad = np.zeros(x.shape[0] + 2 * half + ac_len + 1, dtype=np.float32)
    pad[half : half + x.shape[0]] = x
    frames_view = sliding_window_view(pad, ac_len)
    centres = np.rint(np.arange(n, dtype=np.float64) * (sr / fps)).astype(np.int64)

    loud_db = np.empty(n, dtype=np.float32)
    voicing = np.zeros(n, dtype=np.float32)
    pitch = np.zeros(n, dtype=np.float32)
    mel = np.empty((n, N_MELS), dtype=np.float32)

    for start in range(0, n, _BLOCK_FRAMES):
        stop = min(n, start + _BLOCK_FRAMES)
        long_fr = frames_view[centres[start:stop]]  # [b, ac_len], starts at centre - half
        fr = long_fr[:, inner : inner + win_len]
        ms = (np.square(fr) @ window) / win_sum
        db = np.maximum(10.0 * np.log10(np.maximum(ms, 1e-30)), LOUDNESS_FLOOR_DB)
        loud_db[start:stop] = db

        spec = sfft.rfft(fr * window, n_fft, axis=1)
        power = (spec.real**2 + spec.imag**2) / win_pow
        mel[start:stop] = np.log10(power.astype(np.float32) @ fbank + 1e-10)

        # Periodicity from the DC-removed long frame's normalised autocorrelation.
        centred = (long_fr - ((long_fr @ ac_window) / ac_win_sum)[:, None]) * ac_window
        ac_spec = sfft.rfft(centred, ac_fft, axis=1)
        ac = sfft.irfft(ac_spec.real**2 + ac_spec.imag**2, ac_fft, axis=1)
        r = ac[:, lags] / np.maximum(ac[:, :1], 1e-20) / w_ac_lags
        r = np.clip(r, -1.0, 1.0)
        mid = r[:, 1:-1]
        is_peak = (mid >= r[:, :-2]) & (mid >= r[:, 2:]) & (mid > 0)
        best = np.argmax(np.where(is_peak, mid - octave_bias, -np.inf), axis=1)
        rows = np.arange(stop - start)
        has_peak = is_peak[rows, best] & (db >= VOICING_MIN_DBFS)
        strength = np.where(has_peak, mid[rows, best], 0.0)
        voicing[start:stop] = strength

        # Parabolic interpolation around the chosen lag for sub-sample F0.
        y0, y1, y2 = r[rows, best], mid[rows, best], r[rows, best + 2]
        denom = y0 - 2.0 * y1 + y2
        safe = np.where(np.abs(denom) > 1e-12, denom, 1.0)
        delta = np.where(np.abs(denom) > 1e-12, 0.5 * (y0 - y2) / safe, 0.0)
        lag = lags[1:-1][best] + np.clip(delta, -0.5, 0.5)
        voiced = has_peak & (strength >= VOICING_THRESHOLD)
        pitch[start:stop] = np.where(voiced, sr / lag, 0.0)

    ref = max(float(np.percentile(loud_db, 95)), SILENCE_PEAK_DBFS)
    loudness = np.clip((loud_db - (ref - LOUDNESS_RANGE_DB)) / LOUDNESS_RANGE_DB, 0.0, 1.0)

    arrays = [loud_db, loudness.astype(np.float32), voicing, pitch, mel]
    for a in arrays:
        a.setflags(write=False)
    return AudioFeatures(fps, *arrays)
