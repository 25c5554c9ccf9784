"""Ditto's LMDM sampler in numpy: DDIM over a cosine noise schedule.

The schedule and the loop follow Ditto's ``core/models/lmdm.py`` (its numpy branch, used for
ONNX and TensorRT): 1000 training steps with the cosine schedule (``s = 0.008``, betas
clipped to 0.999); sampling visits ``linspace(-1, 999, steps + 1)`` truncated to integers,
from the top, so 50 steps are t = 999, 979, ..., 19; each step asks the network for the
noise and the clean motion (``pred_noise``, ``x_start``) and moves to the next t with
``eta = 1``: ``x = sqrt(a_next) * x_start + c * pred_noise + sigma * noise``, where
``sigma = sqrt((1 - a / a_next) * (1 - a_next) / (1 - a))`` and ``c = sqrt(1 - a_next -
sigma^2)``; the last step returns ``x_start``. As in Ditto, the per-step noise is drawn once
(when the sampler is set up) and reused for every window; the starting noise is new for
each window. All of it comes from one seeded generator, so the same seed gives the same
motion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TRAIN_STEPS = 1000
COSINE_S = 8e-3
ETA = 1.0
SAMPLING_STEPS = 50  # Ditto's default (stream_pipeline_offline.py: sampling_timesteps)

# (x [1, F, D], cond_frame [1, D], cond [1, F, C], time_cond [1] int64) -> (pred_noise, x_start)
Denoiser = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def alphas_cumprod(n: int = TRAIN_STEPS, s: float = COSINE_S) -> np.ndarray:
    """[n] cumulative products of (1 - beta) for the cosine schedule (Nichol & Dhariwal)."""
    steps = np.arange(n + 1, dtype=np.float64) / n + s
    f = np.cos(steps / (1 + s) * np.pi / 2) ** 2
    f = f / f[0]
    betas = np.clip(1.0 - f[1:] / f[:-1], 0.0, 0.999)
    return np.cumprod(1.0 - betas)


def time_pairs(steps: int, n: int = TRAIN_STEPS) -> list[tuple[int, int]]:
    """(t, t_next) per sampling step, from t = n - 1 down to t_next = -1."""
    times = np.linspace(-1, n - 1, steps + 1).astype(np.float32).astype(np.int64)[::-1]
    return list(zip(times[:-1].tolist(), times[1:].tolist(), strict=True))


@dataclass(frozen=True)
class Step:
    """One DDIM step's constants."""

    t: int
    a_next_sqrt: float
    c: float
    sigma: float


class DdimSampler:
    """Samples [frames, dim] motion windows from a denoiser; seeded."""

    def __init__(
        self, frames: int, dim: int, rng: np.random.Generator, steps: int = SAMPLING_STEPS
    ):
        if steps < 1:
            raise ValueError("The sampler needs at least one step.")
        self.shape = (1, frames, dim)
        self.rng = rng
        ac = alphas_cumprod()
        self.steps: list[Step] = []
        for t, t_next in time_pairs(steps):
            if t_next < 0:
                self.steps.append(Step(t, 0.0, 0.0, 0.0))
                continue
            a, a_next = ac[t], ac[t_next]
            sigma = ETA * np.sqrt((1 - a / a_next) * (1 - a_next) / (1 - a))
            c = np.sqrt(max(0.0, 1 - a_next - sigma**2))
            self.steps.append(Step(t, float(np.sqrt(a_next)), float(c), float(sigma)))
        # Drawn once and shared by every window, as Ditto's _setup_np does.
        self.noise = [rng.standard_normal(self.shape).astype(np.float32) for _ in self.steps]

    def sample(self, denoise: Denoiser, cond_frame: np.ndarray, cond: np.ndarray) -> np.ndarray:
        """[frames, dim] float32 for one window."""
        x = self.rng.standard_normal(self.shape).astype(np.float32)
        frame = np.asarray(cond_frame, np.float32).reshape(1, -1)
        cond = np.asarray(cond, np.float32).reshape(1, self.shape[1], -1)
        for step, noise in zip(self.steps, self.noise, strict=True):
            t = np.full((1,), step.t, np.int64)
            pred_noise, x_start = denoise(x, frame, cond, t)
            if step.a_next_sqrt == 0.0:
                x = np.asarray(x_start, np.float32)
                break
            x = (
                step.a_next_sqrt * np.asarray(x_start, np.float32)
                + step.c * np.asarray(pred_noise, np.float32)
                + step.sigma * noise
            ).astype(np.float32)
        return x.reshape(self.shape[1:])
