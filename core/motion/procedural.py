"""The built-in, weight-free motion generator: voice -> every channel of a MotionTrack.

One pass plans the whole recording from its per-frame features (speech runs, phones,
closures, pitch accents, blinks, gaze fixations: small arrays and event lists), then frames
are synthesised in chunks of ``CHUNK_S``. Synthesis is local: head drift is a sum of
seeded sinusoids, nods, turns, blinks and saccades are events with finite shapes, and the
lip sync reaches at most ``lipsync.MARGIN_S``. So a chunked track equals the one-pass track
exactly and long audio has no seams, while memory per chunk stays fixed.

Its controls are ``settings.MotionSettings`` (VASA-1's gaze direction, head distance and
emotion, plus motion intensity, lip-sync strength and mode).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..audio import AudioFeatures
from . import lipsync
from .emotion import Emotion, emotion
from .settings import MotionSettings, validate
from .track import STANDARD_CHANNELS, MotionTrack

CHUNK_S = 60.0  # frames are synthesised this many seconds at a time


# --------------------------------------------------------------------------- head

# Head motion is calibrated on real talking video (docs/motion.md, "Calibration"): the
# MotionTrack is in true degrees, matched to what the landmark model reads on real talkers.
# It is the sum of four parts, each tied to the voice as people move:
#   sway: a seeded sum of slow sinusoids, smaller in pauses (the head settles);
#   phrase poses: at each phrase start (and on strong accents far into a long phrase) the
#     head moves to a new resting pose over POSE_S, and back towards rest in long pauses;
#   accents: nods (pitch dips) on stressed syllables, and turns with a little roll on half;
#   beats: small pitch, yaw and roll bumps on every syllable nucleus (what makes a talking
#     head look alive at 1-5 Hz rather than floating).
# Every part is bounded (no random walk), so the head cannot drift over a long take, and
# every shape is C2-smooth (zero slope and curvature at its ends), so there are no
# acceleration spikes.

# Sway per channel: (standard deviation, lowest and highest frequency in Hz).
DRIFT = {
    "head_yaw": (1.6, 0.04, 0.4),
    "head_pitch": (1.5, 0.05, 0.5),
    "head_roll": (1.1, 0.04, 0.4),
    "head_x": (0.007, 0.03, 0.3),
    "head_y": (0.005, 0.03, 0.3),
    "head_scale": (0.005, 0.02, 0.2),
}
DRIFT_PARTIALS = 8
POSE_DEG = (3.0, 1.8, 1.6)  # yaw, pitch, roll spread of the phrase poses
POSE_S = 0.7  # a phrase pose is reached over this long
POSE_EVERY_S = 2.5  # inside a long phrase, a strong accent may bring a new pose this often
PAUSE_SETTLE_S = 0.9  # in a pause at least this long the head settles towards rest ...
PAUSE_SETTLE = 0.35  # ... keeping this share of its pose
NOD_DEG, NOD_S = 3.8, 0.65  # pitch dip per unit accent strength, and its length
TURN_DEG, TURN_S = 2.8, 0.9  # yaw turn on half the accents
TURN_ROLL = 0.25  # roll per degree of turn
ACCENT_GAP_S = 0.35  # accents at least this far apart
BEAT_DEG = (3.4, 3.9, 2.8)  # yaw, pitch, roll of a syllable beat at full loudness
BEAT_S = 0.30  # a beat's length
BEAT_GAP_S = 0.16  # syllable nuclei at least this far apart
BEAT_LEVEL = 0.3  # ... and at least this loud (0..1)
BEAT_DIP = 0.5  # share of pitch beats that dip (the rest lift)
GAZE_FOLLOW = 0.6  # share of a head turn the eyes counter-rotate to hold their target


@dataclass(frozen=True)
class Style:
    """What a speaking style does: factors on head motion (all of it), on the gestures tied
    to the voice (nods, turns and syllable beats, on top of head) and on the blink rate."""

    head: float
    gestures: float
    blinks: float


# Conversational is the calibrated default; calm and animated span the spread of the real
# talkers measured (head motion of quiet and lively speakers differs by about 2x either way).
STYLES = {
    "calm": Style(0.6, 0.7, 0.8),
    "conversational": Style(1.0, 1.0, 1.0),
    "animated": Style(1.5, 1.3, 1.2),
}


def _bump(u: np.ndarray) -> np.ndarray:
    """64 u^3 (1-u)^3 on 0..1: peak 1 at 0.5, zero value, slope and curvature at both ends."""
    v = np.clip(u, 0.0, 1.0)
    return 64.0 * v**3 * (1.0 - v) ** 3


def _smootherstep(u: np.ndarray) -> np.ndarray:
    """0 -> 1 with zero slope and curvature at both ends."""
    v = np.clip(u, 0.0, 1.0)
    return v * v * v * (v * (6.0 * v - 15.0) + 10.0)


def pitch_accents(features: AudioFeatures, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Frames and strengths (about 0.5..1.5) of emphasised syllables.

    Prominence is pitch above the speaker's median (semitones) plus loudness above its
    recent average, both only inside speech: what listeners hear as stress.
    """
    fps = features.fps
    pitch = features.pitch_hz.astype(np.float64)
    voiced = pitch > 0
    if voiced.sum() < 3:
        return np.zeros(0, int), np.zeros(0)
    st = np.zeros_like(pitch)
    st[voiced] = 12 * np.log2(pitch[voiced] / np.median(pitch[voiced]))
    st = gaussian_filter1d(np.clip(st, -6, 8) * voiced, max(0.05 * fps, 0.5))
    loud = features.loudness.astype(np.float64)
    recent = gaussian_filter1d(loud, max(0.5 * fps, 0.5))
    prominence = 0.5 * np.clip(st, 0, 6) / 3 + 0.5 * np.clip(loud - recent, 0, 0.4) / 0.2
    prominence = gaussian_filter1d(prominence * speech, max(0.04 * fps, 0.5))
    peaks, props = find_peaks(prominence, height=0.35, distance=max(1, round(ACCENT_GAP_S * fps)))
    return peaks, np.clip(props["peak_heights"], 0.0, 1.5)


def syllable_beats(
    loudness: np.ndarray, speech: np.ndarray, fps: float
) -> tuple[np.ndarray, np.ndarray]:
    """Frames and strengths (0..1) of syllable nuclei: loudness peaks inside speech."""
    level = gaussian_filter1d(loudness.astype(np.float64), max(0.03 * fps, 0.3)) * speech
    peaks, props = find_peaks(
        level, height=BEAT_LEVEL, prominence=0.05, distance=max(1, round(BEAT_GAP_S * fps))
    )
    return peaks, np.clip(props["peak_heights"], 0.0, 1.0)


@dataclass
class HeadPlan:
    drift: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # amplitude, Hz, phase
    accent_t: np.ndarray  # s
    accent_k: np.ndarray  # strength
    turn: np.ndarray  # signed yaw turn factor per accent (0 = no turn)
    beat_t: np.ndarray  # s, syllable nuclei
    beat_k: np.ndarray  # [k, 3] signed yaw, pitch, roll amplitude factors
    pose_t: np.ndarray  # s, start of each move to a new pose
    pose: np.ndarray  # [k, 3] yaw, pitch, roll reached (degrees at intensity 1)
    activity: np.ndarray  # per frame 0..1, smoothed speech


def _phrase_poses(
    speech: np.ndarray,
    fps: float,
    accent_t: np.ndarray,
    accent_k: np.ndarray,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Times and targets of pose changes: phrase starts, strong accents in long phrases,
    settling in long pauses. Changes are at least POSE_S apart, so they never overlap."""
    events: list[tuple[float, str]] = []
    for start, stop in _runs(speech):
        events.append((start / fps - 0.15, "phrase"))
        inside = (accent_t > start / fps + POSE_EVERY_S) & (accent_t < stop / fps - 0.5)
        last = start / fps
        for t, k in zip(accent_t[inside], accent_k[inside], strict=True):
            if k > 0.7 and t - last >= POSE_EVERY_S:
                events.append((t - 0.2, "phrase"))
                last = t
        if stop < len(speech):
            nxt = np.flatnonzero(speech[stop:])
            gap = (nxt[0] if len(nxt) else len(speech) - stop) / fps
            if gap >= PAUSE_SETTLE_S:
                events.append((stop / fps + 0.1, "settle"))
    times: list[float] = []
    poses: list[np.ndarray] = []
    current = np.zeros(3)
    spread = np.array(POSE_DEG)
    for t, kind in sorted(events):
        draw = rng.normal(0.0, 1.0, 3) * spread  # drawn for every event: stable streams
        if times and t - times[-1] < POSE_S:
            continue
        current = PAUSE_SETTLE * current if kind == "settle" else draw
        times.append(max(t, 0.0))
        poses.append(current)
    return np.array(times), np.array(poses).reshape(-1, 3)


def plan_head(features: AudioFeatures, speech: np.ndarray, rng: np.random.Generator) -> HeadPlan:
    fps = features.fps
    drift = {}
    for name, (std, lo, hi) in DRIFT.items():
        freqs = np.exp(rng.uniform(np.log(lo), np.log(hi), DRIFT_PARTIALS))
        phases = rng.uniform(0, 2 * np.pi, DRIFT_PARTIALS)
        amps = np.full(DRIFT_PARTIALS, std * math.sqrt(2.0 / DRIFT_PARTIALS))
        drift[name] = (amps, freqs, phases)
    frames, strength = pitch_accents(features, speech)
    turns = np.where(rng.random(len(frames)) < 0.5, rng.choice([-1.0, 1.0], len(frames)), 0.0)
    beat_frames, beat_level = syllable_beats(features.loudness, speech, fps)
    signs = np.stack(
        [
            rng.choice([-1.0, 1.0], len(beat_frames)),  # yaw either way
            # pitch: mostly a small dip, sometimes a lift
            np.where(rng.random(len(beat_frames)) < BEAT_DIP, -1.0, 1.0)
            * rng.uniform(0.4, 1.0, len(beat_frames)),
            rng.choice([-1.0, 1.0], len(beat_frames)),  # roll either way
        ],
        1,
    ).reshape(-1, 3)
    beat_k = beat_level[:, None] * signs * np.array(BEAT_DEG)
    activity = gaussian_filter1d(speech.astype(np.float64), max(0.6 * fps, 0.5))
    accent_t = frames / fps
    pose_t, pose = _phrase_poses(speech, fps, accent_t, strength, rng)
    return HeadPlan(
        drift, accent_t, strength, turns, beat_frames / fps, beat_k, pose_t, pose, activity
    )


def _events(t: np.ndarray, starts: np.ndarray, length: float, amps: np.ndarray) -> np.ndarray:
    """Sum of bumps of ``length`` s starting at ``starts`` with amplitudes ``amps``."""
    out = np.zeros_like(t)
    if len(starts) == 0:
        return out
    lo, hi = np.searchsorted(starts, [t[0] - length, t[-1]])
    for s, a in zip(starts[lo : hi + 1], amps[lo : hi + 1], strict=True):
        out += a * _bump((t - s) / length)
    return out


def _poses(t: np.ndarray, starts: np.ndarray, poses: np.ndarray) -> np.ndarray:
    """[len(t), 3] pose: each target reached from the previous one over POSE_S."""
    if len(starts) == 0:
        return np.zeros((len(t), 3))
    j = np.searchsorted(starts, t, side="right") - 1
    target = np.where((j >= 0)[:, None], poses[np.maximum(j, 0)], 0.0)
    prev = np.where((j >= 1)[:, None], poses[np.maximum(j - 1, 0)], 0.0)
    u = _smootherstep((t - starts[np.maximum(j, 0)]) / POSE_S)[:, None]
    return np.where((j >= 0)[:, None], prev + (target - prev) * u, 0.0)


def head_frames(
    plan: HeadPlan,
    t: np.ndarray,
    idx: np.ndarray,
    k: float,
    mood: Emotion,
    head_scale: float,
    expressive: float = 1.0,
) -> dict[str, np.ndarray]:
    """Head channels at times ``t`` (frames ``idx``): ``k`` scales all motion,
    ``expressive`` the voice-driven gestures (accents and beats) on top."""
    k = k * mood.head_motion
    level = 0.6 + 0.4 * plan.activity[idx]
    out = {}
    for name, (amps, freqs, phases) in plan.drift.items():
        wave = np.sin(2 * np.pi * freqs[None, :] * t[:, None] + phases[None, :]) @ amps
        out[name] = k * level * wave
    pose = _poses(t, plan.pose_t, plan.pose)
    g = k * expressive
    lead = 0.08  # the head moves slightly ahead of the stressed syllable
    nod = _events(t, plan.accent_t - lead, NOD_S, NOD_DEG * plan.accent_k)
    turn = _events(t, plan.accent_t - lead, TURN_S, TURN_DEG * plan.accent_k * plan.turn)
    beat_start = plan.beat_t - BEAT_S / 2
    beats = [_events(t, beat_start, BEAT_S, plan.beat_k[:, c]) for c in range(3)]
    out["head_yaw"] += k * pose[:, 0] + g * (turn + beats[0])
    out["head_pitch"] += k * pose[:, 1] + g * (beats[1] - nod)
    # People tilt a little into a turn.
    out["head_roll"] += k * pose[:, 2] + g * (TURN_ROLL * turn + beats[2])
    out["head_pitch"] += mood.head_pitch_deg
    out["head_scale"] = head_scale * (1.0 + out["head_scale"])
    return out


# --------------------------------------------------------------------------- eyes

BLINK_S = (0.12, 0.32)  # blink length range; longer after long phrases
BLINK_MIN_GAP_S = 1.2  # start to start: never two blinks at once
PHRASE_S = 2.5  # a phrase at least this long is often followed by a blink
SACCADE_S = 0.05  # a saccade lasts this long
FIXATION_S = (0.6, 2.5)
FIXATION_SPREAD_DEG = (2.0, 1.2)  # yaw, pitch around the main direction
PAUSE_AVERT_S = 0.5  # a pause inside speech at least this long may bring a look away


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def plan_blinks(
    speech: np.ndarray, fps: float, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Blink start times and lengths (s): a renewal process plus blinks at phrase ends."""
    duration = len(speech) / fps
    if rate <= 0:
        return np.zeros(0), np.zeros(0)
    phrase_ends = [
        stop / fps
        for start, stop in _runs(speech)
        if (stop - start) / fps >= PHRASE_S and stop < len(speech)
    ]
    chosen = [e + rng.uniform(0.05, 0.25) for e in phrase_ends if rng.random() < 0.75]
    mean_gap = 60.0 / rate
    # The renewal process fills in around the phrase-end blinks at about the asked rate.
    spontaneous = []
    t = rng.uniform(0.3, mean_gap)
    while t < duration:
        spontaneous.append(t)
        t += max(BLINK_MIN_GAP_S, rng.gamma(4.0, mean_gap / 4.0))
    kept = sorted(chosen)
    for s in spontaneous:
        if all(abs(s - c) >= BLINK_MIN_GAP_S for c in kept):
            kept.append(s)
    keep = np.array(sorted(kept))
    expected = duration / mean_gap
    if len(keep) > expected + 2:  # phrase-end blinks pushed the rate up: thin the others
        extra = [i for i, s in enumerate(keep) if s not in chosen]
        drop = rng.choice(extra, min(len(extra), int(len(keep) - expected)), replace=False)
        keep = np.delete(keep, drop)
    keep = keep[keep < duration]
    after_phrase = np.array([any(abs(s - c) < 1e-9 for c in chosen) for s in keep], bool)
    lengths = rng.uniform(*BLINK_S, len(keep))
    lengths[after_phrase] = rng.uniform(0.2, 0.38, after_phrase.sum())
    return keep, lengths


def blink_frames(starts: np.ndarray, lengths: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Lid closure 0..1: close over 35 % of the blink, open more slowly."""
    out = np.zeros_like(t)
    if len(starts) == 0:
        return out
    lo, hi = np.searchsorted(starts, [t[0] - 0.5, t[-1]])
    for s, length in zip(starts[lo : hi + 1], lengths[lo : hi + 1], strict=True):
        u = (t - s) / length
        close = np.clip(u / 0.35, 0, 1)
        open_ = np.clip((u - 0.35) / 0.65, 0, 1)
        v = np.where(u < 0.35, close * close * (3 - 2 * close), 1 - open_ * open_ * (3 - 2 * open_))
        out = np.maximum(out, np.where((u >= 0) & (u <= 1), v, 0.0))
    return out


def plan_gaze(
    speech: np.ndarray, fps: float, main: tuple[float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Fixation start times (s) and targets [k, 2] (yaw, pitch in degrees).

    Fixations hold 0.6-2.5 s near the main direction with small saccades between them;
    in a thinking pause (a gap inside speech of at least ``PAUSE_AVERT_S``) the eyes often
    look away, up or down and to a side, and come back before speech resumes.
    """
    duration = len(speech) / fps
    starts, targets = [], []
    t = 0.0
    while t < duration:
        starts.append(t)
        targets.append(
            (
                main[0] + rng.normal(0, FIXATION_SPREAD_DEG[0]),
                main[1] + rng.normal(0, FIXATION_SPREAD_DEG[1]),
            )
        )
        t += rng.uniform(*FIXATION_S)
    runs = _runs(speech)
    aversions = []
    for (_, stop), (nxt, _) in zip(runs[:-1], runs[1:], strict=True):
        gap = (nxt - stop) / fps
        if gap >= PAUSE_AVERT_S and rng.random() < 0.7:
            a = stop / fps + rng.uniform(0.05, 0.2)
            b = min(nxt / fps - 0.1, a + 1.5)
            yaw = rng.choice([-1.0, 1.0]) * rng.uniform(6.0, 12.0)
            pitch = rng.uniform(2.0, 6.0) if rng.random() < 0.6 else -rng.uniform(2.0, 5.0)
            if b - a > 2 * SACCADE_S:
                aversions.append((a, b, main[0] + yaw, main[1] + pitch))
    starts_a, targets_a = np.array(starts), np.array(targets)
    for a, b, yaw, pitch in aversions:
        keep = (starts_a < a) | (starts_a > b)
        starts_a = np.concatenate([starts_a[keep], [a, b]])
        back = (
            main[0] + rng.normal(0, FIXATION_SPREAD_DEG[0]),
            main[1] + rng.normal(0, FIXATION_SPREAD_DEG[1]),
        )
        targets_a = np.concatenate([targets_a[keep], [(yaw, pitch), back]])
        order = np.argsort(starts_a, kind="stable")
        starts_a, targets_a = starts_a[order], targets_a[order]
    return starts_a, targets_a.reshape(-1, 2)


def gaze_frames(starts: np.ndarray, targets: np.ndarray, t: np.ndarray) -> np.ndarray:
    """[len(t), 2] gaze: held targets with smoothstep saccades of SACCADE_S."""
    j = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
    prev = targets[np.maximum(j - 1, 0)]
    u = np.clip((t - starts[j]) / SACCADE_S, 0, 1)[:, None]
    return prev + (targets[j] - prev) * (u * u * (3 - 2 * u))


# --------------------------------------------------------------------------- all of it


def generate_motion(
    features: AudioFeatures,
    settings: MotionSettings | None = None,
    samples: np.ndarray | None = None,
    chunk_frames: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> MotionTrack:
    """A full MotionTrack for the voice; ``samples`` (16 kHz mono) enable phonetic lip sync.

    ``progress(fraction)`` is called as phone recognition (the slow part) goes on.
    """
    settings = settings or MotionSettings()
    validate(settings)
    n, fps = features.n_frames, features.fps
    track = MotionTrack.neutral(n, fps, STANDARD_CHANNELS)
    mood = emotion(settings.emotion)
    track.meta = {"generator": "procedural", "settings": asdict(settings)}
    if n == 0:
        return track
    mouth = lipsync.plan_mouth(features, samples, settings.lipsync_mode, progress=progress)
    speech = lipsync.speech_mask(mouth.loudness)
    # Separate streams per part, so changing one control does not reshuffle the others.
    seeds = np.random.SeedSequence(settings.seed).spawn(3)
    head = plan_head(features, speech, np.random.default_rng(seeds[0]))
    style = STYLES[settings.speaking_style]
    rate = settings.blink_rate_per_min * style.blinks
    blinks = plan_blinks(speech, fps, rate, np.random.default_rng(seeds[1]))
    main = (
        settings.gaze_yaw,
        settings.gaze_pitch + settings.emotion_intensity * mood.gaze_pitch_deg,
    )
    gaze = plan_gaze(speech, fps, main, np.random.default_rng(seeds[2]))
    offsets = {name: settings.emotion_intensity * v for name, v in mood.channels.items()}
    scaled = Emotion(
        offsets,
        settings.emotion_intensity * mood.head_pitch_deg,
        1.0 + settings.emotion_intensity * (mood.head_motion - 1.0),
    )
    step = chunk_frames or max(1, round(CHUNK_S * fps))
    for a in range(0, n, step):
        b = min(n, a + step)
        idx = np.arange(a, b)
        t = idx / fps
        ch = lipsync.mouth_frames(
            mouth, a, b, settings.lipsync_strength, jaw_rest=offsets.get("jawOpen", 0.0)
        )
        k = settings.motion_intensity * style.head
        ch |= head_frames(head, t, idx, k, scaled, settings.head_scale, style.gestures)
        blink = blink_frames(*blinks, t)
        g = gaze_frames(*gaze, t)
        # The eyes counter-rotate against most of the head's turn to hold their target.
        ch["gaze_yaw"] = g[:, 0] - GAZE_FOLLOW * ch["head_yaw"]
        ch["gaze_pitch"] = g[:, 1] - GAZE_FOLLOW * (ch["head_pitch"] - scaled.head_pitch_deg)
        for side in ("Left", "Right"):
            lid = offsets.get(f"eyeBlink{side}", 0.0)
            ch[f"eyeBlink{side}"] = lid + (1.0 - lid) * blink
        for name, value in offsets.items():
            if name.startswith("eyeBlink") or name == "jawOpen":
                continue
            ch[name] = np.clip(ch.get(name, 0.0) + value, 0.0, 1.0)
        for name, values in ch.items():
            track.data[a:b, track.index(name)] = values
    track.meta |= {
        "lipsync_mode": mouth.mode,
        "notes": list(mouth.notes),
        "chunk_frames": step,
        "blinks": len(blinks[0]),
        "pitch_accents": len(head.accent_t),
    }
    return track


class ProceduralMotion:
    """The built-in generator behind ``core.stages.MotionGenerator`` (no model file)."""

    def generate(
        self,
        features: AudioFeatures,
        settings: MotionSettings,
        samples: np.ndarray | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> MotionTrack:
        return generate_motion(features, settings, samples, progress=progress)
