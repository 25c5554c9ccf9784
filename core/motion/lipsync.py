"""Mouth shapes from speech: phonetic (English phones) or acoustic (any language, singing).

Both routes produce five articulation curves per frame (``visemes.PARAMS``: jaw opening, lip
funnel, pucker, spread, lower-lip tuck), which become ARKit channels. Shared rules, as an
animator keys lip sync:

* shapes lead the sound by ``LEAD_S`` (about one frame at 25 fps);
* neighbouring shapes blend (dominance-weighted, Cohen-Massaro) and a short smoothing keeps
  them from chattering frame to frame;
* lips meet on every bilabial (p, b, m) and on every acoustic closure (a silent stop gap or
  a nasal murmur inside speech) for at least one frame, with short ramps either side; the
  acoustic closures also serve the phonetic route, whose recogniser often mistakes b for g;
* the mouth is shut throughout silence.

Work is split into a *plan* for the whole file (speech mask, closure frames, phones: small
per-frame arrays) and per-chunk synthesis whose every operation reaches at most
``MARGIN_S`` away, so synthesising in chunks gives exactly the one-pass result.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.ndimage import binary_dilation, gaussian_filter1d, maximum_filter1d, uniform_filter1d

from ..audio import MEL_FMAX_HZ, MEL_FMIN_HZ, N_MELS, AudioFeatures, compute_features, phonemes
from ..errors import VasaError
from .settings import LIPSYNC_MODES
from .visemes import PARAMS, phone_visemes

MODES = LIPSYNC_MODES
LEAD_S = 0.04  # shapes lead the sound by this much
SMOOTH_S = 0.03  # anti-chatter smoothing (Gaussian sigma)
RAMP_S = 0.04  # lips close / open over this long around a closure
DOMINANCE_TAU_S = 0.045  # how fast a segment's hold decays outside it
PLATEAU = 0.8  # share of a segment over which its own dominance is flat
REACH_S = 0.6  # phones further than this do not affect a frame
MARGIN_S = 1.0  # every synthesis operation reaches less than this
SPEECH_ON = 0.30  # normalised loudness above which a frame counts as speech
SPEECH_OFF = 0.18  # hysteresis: speech continues until loudness drops below this
CLOSED_JAW = 0.02  # jaw may stay this far open while the lips are sealed (mouthClose)
PRESS = 0.35  # mouthPress on a closure
SUSTAIN_S = 0.5  # a voiced stretch this long on a steady pitch counts as a held note
NOTE_RANGE_ST = 1.5  # ... steady: its pitch stays within this many semitones
NOTE_SMOOTH_S = 0.2  # pitch is averaged over this long first, which removes vibrato
NOTE_GRID_HZ = 100.0  # held notes are measured on this fixed grid, whatever the video fps
SINGING_SHARE = 0.6  # auto mode treats a voice as singing above this sustained share
MIN_OPEN_S = 0.05  # shorter openings between closures are held shut
ONSET_PAUSE_S = 0.15  # speech after at least this much silence starts from closed lips

MOUTH_CHANNELS = (
    "jawOpen",
    "mouthClose",
    "mouthFunnel",
    "mouthPucker",
    "mouthPressLeft",
    "mouthPressRight",
    "mouthSmileLeft",
    "mouthSmileRight",
    "mouthRollLower",
)


def speech_mask(loudness: np.ndarray) -> np.ndarray:
    """Frames inside speech, with hysteresis so short dips do not count as silence."""
    out = np.zeros(len(loudness), bool)
    on = False
    for i, v in enumerate(loudness):
        on = v > SPEECH_ON if not on else v > SPEECH_OFF
        out[i] = on
    return out


def _mel_centres() -> np.ndarray:
    def hz_to_mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)

    mels = np.linspace(hz_to_mel(MEL_FMIN_HZ), hz_to_mel(MEL_FMAX_HZ), N_MELS + 2)[1:-1]
    return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)


def spectral_cues(mel: np.ndarray) -> dict[str, np.ndarray]:
    """Formant-like cues from log-mel power: F1 and F2 proxies (Hz) and the HF tilt.

    ``f1`` (centroid of 200-1000 Hz) rises with jaw opening; ``f2`` (700-3000 Hz) is low
    for rounded and high for spread vowels; ``hf`` (log ratio of power above 3 kHz to power
    below 1 kHz) is low in nasal murmur and stop closures and high in fricatives and bursts.
    """
    centres = _mel_centres()
    power = np.power(10.0, mel.astype(np.float64))

    def centroid(lo: float, hi: float) -> np.ndarray:
        band = (centres >= lo) & (centres <= hi)
        w = power[:, band]
        return (w @ centres[band]) / np.maximum(w.sum(1), 1e-12)

    hf = np.log10(power[:, centres > 3000].sum(1) + 1e-10) - np.log10(
        power[:, centres < 1000].sum(1) + 1e-10
    )
    return {"f1": centroid(200, 1000), "f2": centroid(700, 3000), "hf": hf}


@dataclass
class MouthPlan:
    """Whole-file inputs of the lip sync: per-frame arrays and, on the phonetic route, phones."""

    fps: float
    mode: str  # the route used: phonetic or acoustic
    loudness: np.ndarray
    voicing: np.ndarray
    speech: np.ndarray  # bool, near speech (the mouth may move)
    closure: np.ndarray  # bool, lips meet and press here (acoustic closures)
    onset: np.ndarray  # bool, speech starts here after a pause: lips meet
    cues: dict[str, np.ndarray]
    phones: list[phonemes.Phone] | None = None
    phone_starts: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def acoustic_closures(
    loudness: np.ndarray,
    voicing: np.ndarray,
    speech: np.ndarray,
    cues: dict[str, np.ndarray],
    fps: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames inside speech where the lips are (or may be) shut, from the sound alone.

    A nasal murmur or voiced stop closure is a dip in level with a low F1 proxy and little
    energy above 3 kHz; a voiceless stop gap is a deep dip without voicing. Both are closed
    for p, b, m and near-closed for t, d, n, k, g, so closing on all of them errs where a
    viewer notices least (a lip that fails to meet on "b" is the error people see).
    Returns (closures, speech onsets): both shut the lips, only closures press them.
    """
    reach = max(1, round(0.15 * fps))
    envelope = maximum_filter1d(loudness, 2 * reach + 1, mode="nearest")
    dip = envelope - loudness
    murmur = (
        np.clip((-1.8 - cues["hf"]) / 0.4, 0, 1)
        * np.clip((330 - cues["f1"]) / 60, 0, 1)
        * np.clip((dip - 0.12) / 0.12, 0, 1)
    )
    gap = (
        np.clip((dip - 0.3) / 0.15, 0, 1)
        * np.clip((0.5 - voicing) / 0.2, 0, 1)
        * np.clip((-0.5 - cues["hf"]) / 0.5, 0, 1)
    )
    inside = speech & binary_dilation(speech, iterations=reach) & (envelope > SPEECH_ON)
    closed = inside & (np.maximum(murmur, gap) > 0.5)
    # Speech that starts after a pause starts from closed lips (the mouth leaves rest on
    # the sound, so "ba" after silence shows its closure even when the b is pre-voiced).
    pause = max(1, round(ONSET_PAUSE_S * fps))
    count = np.concatenate([[0], np.cumsum(speech)])
    i = np.arange(len(speech))
    spoken_before = count[i] - count[np.maximum(i - pause, 0)]
    onsets = speech & (spoken_before == 0)
    return closed, onsets


def sustained_share(voice: AudioFeatures | np.ndarray) -> float:
    """Share of voiced time inside held notes: stretches of SUSTAIN_S, voiced throughout,
    whose pitch (averaged over NOTE_SMOOTH_S, which removes vibrato) stays within
    NOTE_RANGE_ST semitones.

    ``voice`` is best given as the 16 kHz samples: they are measured on a fixed
    NOTE_GRID_HZ grid, so the answer does not depend on the video frame rate (at 1 fps every
    voiced frame would last a second) or on the analysis window that comes with it. Features
    are measured on their own frames, which cannot resolve a note below about 10 fps.
    Speech breaks voicing at consonants and glides in pitch between them: measured 0.00-0.11
    on recorded English and Mandarin speech (the same at 8 kHz), up to 0.41 on slow
    monotone synthetic speech; a sung melody scores above 0.9 with vibrato of a semitone.
    Singing is where English phone recognition has nothing to offer (the acoustic route).
    """
    if isinstance(voice, AudioFeatures):
        features = voice
    else:
        features = compute_features(np.asarray(voice, np.float32), NOTE_GRID_HZ)
    fps = features.fps
    pitch = features.pitch_hz.astype(np.float64)
    voiced = pitch > 0
    total = int(voiced.sum())
    width = max(2, round(SUSTAIN_S * fps))
    if total == 0 or len(pitch) < width:
        return 0.0
    semitones = np.where(voiced, 12.0 * np.log2(np.maximum(pitch, 1.0)), 0.0)
    k = max(1, round(NOTE_SMOOTH_S * fps))
    weight = uniform_filter1d(voiced.astype(np.float64), k, mode="constant")
    smooth = uniform_filter1d(semitones, k, mode="constant") / np.maximum(weight, 1e-9)
    # Every window of `width` frames that is voiced throughout on a steady pitch is a note.
    hi = sliding_window_view(np.where(voiced, smooth, -np.inf), width).max(axis=1)
    lo = sliding_window_view(np.where(voiced, smooth, np.inf), width).min(axis=1)
    count = np.concatenate([[0], np.cumsum(voiced)])
    steady = (count[width:] - count[:-width] == width) & (hi - lo <= NOTE_RANGE_ST)
    # A frame is held when some note window covers it.
    starts = np.concatenate([[0], np.cumsum(np.pad(steady, (0, width - 1)))])
    i = np.arange(len(pitch))
    held = starts[i + 1] - starts[np.maximum(i + 1 - width, 0)] > 0
    return float((held & voiced).sum() / total)


def plan_mouth(
    features: AudioFeatures,
    samples: np.ndarray | None,
    mode: str,
    phones: list[phonemes.Phone] | None = None,
    progress: Callable[[float], None] | None = None,
) -> MouthPlan:
    """Speech mask, closures and (phonetic route) phones for the whole recording.

    ``phones`` (ARPAbet with times, e.g. from a forced aligner and a transcript) replace
    the recogniser's on the phonetic and auto routes.
    """
    if mode not in MODES:
        raise VasaError(f"Lip-sync mode {mode!r} is unknown; use one of {', '.join(MODES)}.")
    fps = features.fps
    loud = features.loudness.astype(np.float64)
    voicing = features.voicing.astype(np.float64)
    speech = speech_mask(loud)
    near = binary_dilation(speech, iterations=max(1, round(0.05 * fps)))
    cues = spectral_cues(features.mel)
    closure, onset = acoustic_closures(loud, voicing, speech, cues, fps)
    plan = MouthPlan(fps, "acoustic", loud, voicing, near, closure, onset, cues)
    if mode == "acoustic":
        return plan
    if phones is not None:
        plan.phones = sorted(phones, key=lambda p: p.start)
        plan.phone_starts = np.array([p.start for p in plan.phones])
        plan.mode = "phonetic"
        return plan
    why_not = phonemes.availability()
    if why_not is None and samples is None:
        why_not = (
            "No audio samples were given for phone recognition; the acoustic lip sync was used."
        )
    if why_not is not None:
        if mode == "phonetic":
            raise VasaError(
                why_not.replace(
                    "the acoustic lip sync was used", "choose the acoustic or auto lip-sync mode"
                )
            )
        plan.notes.append(why_not)
        return plan
    assert samples is not None  # why_not is set above when there are no samples
    held = sustained_share(samples) if mode == "auto" else 0.0
    if held >= SINGING_SHARE:
        plan.notes.append(
            f"The voice holds long notes like singing ({held:.0%} of its voiced "
            "time in steady notes of 0.5 s or longer); the acoustic lip sync was used."
        )
        return plan
    plan.phones = phonemes.recognize(samples, progress=progress)
    plan.phone_starts = np.array([p.start for p in plan.phones])
    plan.mode = "phonetic"
    return plan


# --------------------------------------------------------------------------- synthesis


def _phone_table(plan: MouthPlan) -> tuple[list[phonemes.Phone], np.ndarray]:
    """The phones and their start times, which plan_mouth sets on the phonetic route."""
    assert plan.phones is not None and plan.phone_starts is not None, "no phones in the plan"
    return plan.phones, plan.phone_starts


def _phonetic_params(plan: MouthPlan, times: np.ndarray) -> np.ndarray:
    """Dominance-blended articulation [len(times), 5] at (already lead-shifted) times."""
    n = len(times)
    num = np.zeros((n, len(PARAMS)))
    den = np.full((n, 2), 1e-6)  # jaw, lips
    phones, starts = _phone_table(plan)
    lo = np.searchsorted(starts, times[0] - REACH_S - 5.0) if n else 0
    for phone in phones[lo:]:
        if phone.start > times[-1] + REACH_S:
            break
        if phone.end < times[0] - REACH_S:
            continue
        parts = phone_visemes(phone.name)
        step = (phone.end - phone.start) / len(parts)
        for k, vis in enumerate(parts):
            s = phone.start + k * step
            centre, half = s + step / 2, PLATEAU * step / 2
            near = (times > centre - half - REACH_S) & (times < centre + half + REACH_S)
            if not near.any():
                continue
            d = np.exp(-np.maximum(np.abs(times[near] - centre) - half, 0) / DOMINANCE_TAU_S)
            dj, dl = vis.jaw_dominance * d, vis.lip_dominance * d
            pose = np.asarray(vis.pose)
            num[near, 0] += dj * pose[0]
            num[near, 1:] += dl[:, None] * pose[1:]
            den[near, 0] += dj
            den[near, 1] += dl
    out = np.empty_like(num)
    out[:, 0] = num[:, 0] / den[:, 0]
    out[:, 1:] = num[:, 1:] / den[:, 1:2]
    return out


def _phone_is_speech(plan: MouthPlan, times: np.ndarray) -> np.ndarray:
    """Whether the phone recognised at each time is a speech sound (not SIL or noise)."""
    phones, starts = _phone_table(plan)
    k = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, None)
    names = np.array([p.name != "SIL" for p in phones] or [False])
    ends = np.array([p.end for p in phones] or [0.0])
    return names[k] & (times < ends[k])


def _phonetic_closures(plan: MouthPlan, a: int, b: int) -> np.ndarray:
    """Frames [a, b) on which a p, b or m (lead-shifted) holds the lips shut."""
    fps = plan.fps
    out = np.zeros(b - a, bool)
    phones, starts = _phone_table(plan)
    lo = np.searchsorted(starts, (a - 1) / fps - 5.0)
    for phone in phones[lo:]:
        if phone.start - LEAD_S > (b + 1) / fps:
            break
        if not any(v.closed for v in phone_visemes(phone.name)):
            continue
        s, e = phone.start - LEAD_S, phone.end - LEAD_S
        first, last = math.ceil(s * fps - 1e-9), math.floor(e * fps + 1e-9)
        if last < first:  # shorter than a frame: the nearest frame closes
            first = last = round((s + e) / 2 * fps)
        first, last = max(first, a), min(last, b - 1)
        if last >= first:
            out[first - a : last - a + 1] = True
    return out


def _acoustic_params(plan: MouthPlan, idx: np.ndarray) -> np.ndarray:
    """Articulation [len(idx), 5] from level and spectral shape at frame indices ``idx``."""
    loud, f1, f2 = plan.loudness[idx], plan.cues["f1"][idx], plan.cues["f2"][idx]
    amp = np.clip((loud - SPEECH_OFF) / (1.0 - SPEECH_OFF), 0.0, 1.0) ** 0.8
    amp *= 0.55 + 0.45 * np.clip(plan.voicing[idx] / 0.6, 0.0, 1.0)
    shape_open = np.clip((f1 - 250.0) / 430.0, 0.35, 1.0)
    rounded = np.clip((430.0 - f1) / 120.0, 0, 1) * np.clip((2100.0 - f2) / 500.0, 0, 1)
    spread = np.clip((f2 - 1700.0) / 600.0, 0, 1)
    out = np.zeros((len(idx), len(PARAMS)))
    out[:, 0] = 0.75 * amp * (0.25 + 0.75 * shape_open)
    out[:, 1] = 0.5 * rounded * amp
    out[:, 2] = 0.75 * rounded * amp
    out[:, 3] = 0.5 * spread * amp
    return out


def _ramp(mask: np.ndarray, fps: float) -> np.ndarray:
    """1 on ``mask`` frames, falling to 0 over RAMP_S either side (raised cosine)."""
    width = max(1, round(RAMP_S * fps))
    out = mask.astype(np.float64)
    if not mask.any():
        return out
    idx = np.flatnonzero(mask)
    pos = np.arange(len(mask))
    k = np.searchsorted(idx, pos)
    left = np.abs(pos - idx[np.clip(k - 1, 0, len(idx) - 1)])
    right = np.abs(idx[np.clip(k, 0, len(idx) - 1)] - pos)
    dist = np.minimum(left, right)
    soft = 0.5 + 0.5 * np.cos(np.pi * np.clip(dist / width, 0, 1))
    return np.maximum(out, soft)


def _fill_short_openings(closed: np.ndarray, fps: float) -> np.ndarray:
    """Keep the lips shut across openings shorter than MIN_OPEN_S between two closures
    (closed-open-closed on successive frames reads as chatter, not speech)."""
    k = max(1, round(MIN_OPEN_S * fps))
    out = closed.copy()
    for start, stop in _false_runs(closed):
        if start > 0 and stop < len(closed) and stop - start <= k:
            out[start:stop] = True
    return out


def _false_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    edges = np.diff(np.concatenate([[1], mask.astype(np.int8), [1]]))
    return list(zip(np.flatnonzero(edges == -1), np.flatnonzero(edges == 1), strict=True))


def mouth_frames(
    plan: MouthPlan, a: int, b: int, strength: float, jaw_rest: float = 0.0
) -> dict[str, np.ndarray]:
    """ARKit mouth channels for frames [a, b); ``jaw_rest`` keeps the jaw that far open
    (an emotion's offset) except where the lips must meet."""
    fps = plan.fps
    n = len(plan.loudness)
    m = int(math.ceil(MARGIN_S * fps))
    a0, b0 = max(0, a - m), min(n, b + m)
    lead = LEAD_S * fps
    # Index of the audio frame each video frame looks at (lead-shifted), linear interpolation.
    src = np.clip(np.arange(a0, b0) + lead, 0, n - 1)
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (src - i0)[:, None]
    speech = plan.speech[np.rint(src).astype(int)]
    if plan.mode == "phonetic":
        times = np.arange(a0, b0) / fps + LEAD_S
        params = _phonetic_params(plan, times)
        # Where the recogniser heard only silence or noise inside speech (it does, on short
        # or unclear syllables), the acoustic shapes fill in.
        heard = _phone_is_speech(plan, times).astype(np.float64)
        heard = gaussian_filter1d(heard, max(SMOOTH_S * fps, 0.3), mode="nearest")[:, None]
        acoustic = (1 - w) * _acoustic_params(plan, i0) + w * _acoustic_params(plan, i1)
        level = (1 - w[:, 0]) * plan.loudness[i0] + w[:, 0] * plan.loudness[i1]
        level = gaussian_filter1d(level, max(0.05 * fps, 0.3), mode="nearest")
        params[:, 0] *= np.clip(0.7 + 0.5 * level, 0.5, 1.2)
        params = heard * params + (1 - heard) * acoustic
        closed = _phonetic_closures(plan, a0, b0)
    else:
        params = (1 - w) * _acoustic_params(plan, i0) + w * _acoustic_params(plan, i1)
        closed = np.zeros(b0 - a0, bool)
    nearest = np.rint(src).astype(int)
    closed |= plan.closure[nearest]
    pressed = _ramp(closed & speech, fps)
    closed |= plan.onset[nearest]
    params[~speech] = 0.0
    params = gaussian_filter1d(params, max(SMOOTH_S * fps, 0.3), axis=0, mode="nearest")
    params[~speech] = 0.0
    c = _ramp(_fill_short_openings(closed | ~speech, fps) & speech, fps)
    jaw = params[:, 0] + jaw_rest / max(float(strength), 1e-6)
    sealed = np.minimum(0.25 * jaw, CLOSED_JAW) * c
    k = max(float(strength), 0.0)
    out = {
        "jawOpen": jaw * (1 - c) + sealed,
        "mouthClose": sealed,
        "mouthFunnel": params[:, 1] * (1 - c),
        "mouthPucker": params[:, 2],
        "mouthPressLeft": PRESS * pressed,
        "mouthPressRight": PRESS * pressed,
        "mouthSmileLeft": params[:, 3] * (1 - 0.5 * c),
        "mouthSmileRight": params[:, 3] * (1 - 0.5 * c),
        # The lower lip can only tuck under the teeth while the jaw is nearly shut.
        "mouthRollLower": params[:, 4] * np.clip((0.45 - jaw) / 0.3, 0.0, 1.0),
    }
    s = slice(a - a0, b - a0)
    return {name: np.clip(v[s] * k, 0.0, 1.0) for name, v in out.items()}
