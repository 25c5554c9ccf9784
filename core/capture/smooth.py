"""The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012): smoothing without lag.

A low-pass filter whose cut-off rises with the signal's speed: still stretches are
smoothed hard (landmark jitter goes), fast moves pass almost untouched (a blink or a
head turn is not delayed). ``one_euro`` runs causally, frame by frame, as a live capture
would; it still lags a little while the cut-off is low. Capture reads a whole file, so it
uses ``one_euro_zero_lag``: the filter run forwards and backwards and the two averaged, whose
lags cancel.
"""

from __future__ import annotations

import math

import numpy as np


def _alpha(cutoff_hz: float, fps: float) -> float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau * fps)


def one_euro(
    values: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.0,
    d_cutoff: float = 1.0,
) -> np.ndarray:  # fmt: skip
    """Filtered copy of ``values`` [n] sampled at ``fps``.

    ``min_cutoff`` (Hz): the cut-off when still; ``beta``: how fast it rises with speed
    (units of the signal per second); ``d_cutoff``: the speed estimate's own cut-off."""
    x = np.asarray(values, np.float64)
    out = np.empty_like(x)
    if x.size == 0:
        return out
    out[0] = x[0]
    speed = 0.0
    a_d = _alpha(d_cutoff, fps)
    for i in range(1, len(x)):
        raw_speed = (x[i] - out[i - 1]) * fps
        speed += a_d * (raw_speed - speed)
        cutoff = min_cutoff + beta * abs(speed)
        a = _alpha(cutoff, fps)
        out[i] = out[i - 1] + a * (x[i] - out[i - 1])
    return out


def one_euro_zero_lag(
    values: np.ndarray, fps: float, min_cutoff: float = 1.0, beta: float = 0.0,
    d_cutoff: float = 1.0,
) -> np.ndarray:  # fmt: skip
    """The mean of ``one_euro`` run forwards and backwards in time: the same smoothing,
    delayed by the forward pass as much as advanced by the backward one (for offline use)."""
    x = np.asarray(values, np.float64)
    forward = one_euro(x, fps, min_cutoff, beta, d_cutoff)
    backward = one_euro(x[::-1], fps, min_cutoff, beta, d_cutoff)[::-1]
    return (forward + backward) / 2
