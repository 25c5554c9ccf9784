"""The built-in, weight-free motion generator: audio features -> MotionTrack.

Jaw and lips follow loudness and voicing and close in silence; blinks come at a natural
rate; the head drifts gently and nods on emphasis; the eyes make small saccades. Everything
random comes from one seeded generator, so the same inputs and seed give the same track.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import binary_dilation, gaussian_filter1d

from .audio import AudioFeatures
from .motion import STANDARD_CHANNELS, MotionTrack


@dataclass
class MotionSettings:
    seed: int = 0
    motion_intensity: float = 1.0  # head motion scale; 0 keeps the head still
    lipsync_strength: float = 1.0  # mouth motion scale
    blink_rate_per_min: float = 17.0


SPEECH_ON = 0.30  # normalised loudness above which a frame counts as speech
SPEECH_OFF = 0.18  # hysteresis: speech continues until loudness drops below this


def _smooth_attack_release(x: np.ndarray, fps: float, attack_s: float,
                           release_s: float) -> np.ndarray:
    """One-pole follower, faster when rising than falling (how a jaw moves)."""
    a_up = 1.0 - np.exp(-1.0 / max(attack_s * fps, 1e-6))
    a_down = 1.0 - np.exp(-1.0 / max(release_s * fps, 1e-6))
    out = np.empty_like(x)
    y = 0.0
    for i, v in enumerate(x):
        y += (a_up if v > y else a_down) * (v - y)
        out[i] = y
    return out


def speech_mask(features: AudioFeatures) -> np.ndarray:
    """Frames inside speech, with hysteresis so short dips do not count as silence."""
    loud = features.loudness
    out = np.zeros(len(loud), bool)
    on = False
    for i, v in enumerate(loud):
        on = v > SPEECH_ON if not on else v > SPEECH_OFF
        out[i] = on
    return out


def _mouth(features: AudioFeatures, strength: float) -> dict[str, np.ndarray]:
    fps = features.fps
    loud = features.loudness.astype(np.float64)
    voiced = features.voicing.astype(np.float64)
    target = np.clip((loud - SPEECH_OFF) / (1.0 - SPEECH_OFF), 0.0, 1.0) ** 0.8
    target *= 0.45 + 0.55 * np.clip(voiced / 0.6, 0.0, 1.0)
    speech = speech_mask(features)
    target[~speech] = 0.0
    jaw = _smooth_attack_release(target, fps, 0.025, 0.04) * 0.6 * strength
    # Lips shut within ~two frames of the voice stopping (the follower's tail is cut).
    near_speech = binary_dilation(speech, iterations=max(1, round(0.05 * fps)))
    jaw[~near_speech | (jaw < 0.02 * max(strength, 1e-6))] = 0.0
    # Lip rounding from spectral balance: rounded vowels put energy low, spread ones high.
    mel = features.mel.astype(np.float64)
    low, high = mel[:, 2:12].mean(1), mel[:, 22:36].mean(1)
    tilt = gaussian_filter1d(low - high, sigma=max(fps * 0.04, 0.5))
    speaking = gaussian_filter1d((target > 0).astype(np.float64), sigma=max(fps * 0.04, 0.5))
    round_ = np.clip((tilt - np.median(tilt)) / 1.5, 0.0, 1.0) * speaking * strength
    spread = np.clip((np.median(tilt) - tilt) / 1.5, 0.0, 1.0) * speaking * strength
    return {
        "jawOpen": np.clip(jaw, 0.0, 1.0),
        "mouthFunnel": 0.35 * round_,
        "mouthPucker": 0.25 * round_,
        "mouthSmileLeft": 0.15 * spread,
        "mouthSmileRight": 0.15 * spread,
    }


def _blinks(n: int, fps: float, rng: np.random.Generator, rate_per_min: float) -> np.ndarray:
    """Blink curve 0..1: quick close, slower open, at least 1.2 s apart."""
    curve = np.zeros(n)
    mean_gap = 60.0 / max(rate_per_min, 1e-3)
    t = rng.uniform(0.5, mean_gap)
    duration_s = n / fps
    while t < duration_s:
        length = rng.uniform(0.15, 0.3)
        close = 0.4 * length
        i0, i1 = int(np.floor(t * fps)), int(np.ceil((t + length) * fps))
        for i in range(max(i0, 0), min(i1 + 1, n)):
            u = i / fps - t
            v = u / close if u < close else 1.0 - (u - close) / (length - close)
            curve[i] = max(curve[i], float(np.clip(v, 0.0, 1.0)))
        t += length + max(1.2, rng.gamma(4.0, mean_gap / 4.0))
    return curve


def _smooth_noise(n: int, fps: float, rng: np.random.Generator, seconds: float) -> np.ndarray:
    """Band-limited noise with unit standard deviation and a time scale of ``seconds``."""
    sigma = max(seconds * fps, 0.5)
    pad = int(seconds * fps * 3) + 1
    x = gaussian_filter1d(rng.standard_normal(n + 2 * pad), sigma=sigma)
    # Scale by the filter's own gain (the std of filtered unit white noise), not by the
    # clip's sample std, which is tiny on clips shorter than the time scale.
    impulse = np.zeros(2 * int(4 * sigma + 0.5) + 1)
    impulse[len(impulse) // 2] = 1.0
    gain = float(np.sqrt(np.square(gaussian_filter1d(impulse, sigma)).sum()))
    return x[pad:pad + n] / gain


def _head(features: AudioFeatures, rng: np.random.Generator, k: float) -> dict[str, np.ndarray]:
    n, fps = features.n_frames, features.fps
    loud = features.loudness.astype(np.float64)
    # Emphasis: loudness rising above its recent average gives a small nod.
    recent = gaussian_filter1d(loud, sigma=max(fps * 0.5, 0.5))
    emphasis = gaussian_filter1d(np.clip(loud - recent, 0, None), sigma=max(fps * 0.08, 0.5))
    emphasis /= emphasis.max() + 1e-9
    return {
        "head_yaw": k * (3.0 * _smooth_noise(n, fps, rng, 1.2)),
        "head_pitch": k * (1.5 * _smooth_noise(n, fps, rng, 0.9) - 2.0 * emphasis),
        "head_roll": k * (1.2 * _smooth_noise(n, fps, rng, 1.5)),
        "head_x": k * 0.008 * _smooth_noise(n, fps, rng, 2.0),
        "head_y": k * 0.006 * _smooth_noise(n, fps, rng, 2.0),
        "head_scale": 1.0 + k * 0.006 * _smooth_noise(n, fps, rng, 2.5),
    }


def _gaze(n: int, fps: float, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Fixations held 0.6-2.5 s with small saccades (fast, ~40 ms) between them."""
    yaw, pitch = np.zeros(n), np.zeros(n)
    i = 0
    while i < n:
        hold = max(1, int(rng.uniform(0.6, 2.5) * fps))
        yaw[i:i + hold] = rng.normal(0.0, 2.5)
        pitch[i:i + hold] = rng.normal(0.0, 1.5)
        i += hold
    sigma = max(fps * 0.02, 0.3)
    return {"gaze_yaw": gaussian_filter1d(yaw, sigma),
            "gaze_pitch": gaussian_filter1d(pitch, sigma)}


def generate_motion(features: AudioFeatures, settings: MotionSettings | None = None) -> MotionTrack:
    """A full MotionTrack for the given audio features."""
    settings = settings or MotionSettings()
    n, fps = features.n_frames, features.fps
    track = MotionTrack.neutral(n, fps, STANDARD_CHANNELS)
    if n == 0:
        return track
    # Separate streams per part, so changing one control does not reshuffle the others.
    seeds = np.random.SeedSequence(settings.seed).spawn(3)
    channels = _mouth(features, settings.lipsync_strength)
    channels |= _head(features, np.random.default_rng(seeds[0]), settings.motion_intensity)
    blink = _blinks(n, fps, np.random.default_rng(seeds[1]), settings.blink_rate_per_min)
    channels |= {"eyeBlinkLeft": blink, "eyeBlinkRight": blink}
    channels |= _gaze(n, fps, np.random.default_rng(seeds[2]))
    for name, values in channels.items():
        track[name] = values
    track.meta = {"generator": "procedural", "settings": asdict(settings)}
    return track
