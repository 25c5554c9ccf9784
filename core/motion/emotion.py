"""Emotion offsets: a steady expression laid over the speech-driven motion (VASA-1's control).

Each emotion is a set of ARKit channel offsets at intensity 1, plus how it colours the head
(pitch offset in degrees and a motion-amplitude factor) and the gaze (pitch offset).
Offsets are added to the lip sync and clipped to 0..1; ``eyeBlink*`` offsets narrow the
eyes (a cheek squint or heavy lids) and blinks still close them fully on top.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import VasaError


@dataclass(frozen=True)
class Emotion:
    channels: dict[str, float] = field(default_factory=dict)
    head_pitch_deg: float = 0.0
    head_motion: float = 1.0  # factor on head-motion amplitude
    gaze_pitch_deg: float = 0.0


def _both(**stems: float) -> dict[str, float]:
    """The same offset on both sides: ``_both(mouthSmile=0.45)`` sets Left and Right."""
    return {f"{stem}{side}": v for stem, v in stems.items() for side in ("Left", "Right")}


EMOTIONS = {
    "neutral": Emotion(),
    "happy": Emotion(
        _both(mouthSmile=0.45, eyeBlink=0.12) | {"browInnerUp": 0.1},
        head_pitch_deg=1.0,
        head_motion=1.15,
    ),
    "sad": Emotion(
        _both(mouthFrown=0.45, eyeBlink=0.2, mouthPress=0.1) | {"browInnerUp": 0.55},
        head_pitch_deg=-3.0,
        head_motion=0.6,
        gaze_pitch_deg=-4.0,
    ),
    "angry": Emotion(
        _both(browDown=0.6, mouthFrown=0.2, mouthPress=0.25, eyeBlink=0.12),
        head_pitch_deg=-1.5,
        head_motion=1.2,
    ),
    "surprised": Emotion(
        _both(browOuterUp=0.6, eyeWide=0.5) | {"browInnerUp": 0.6, "jawOpen": 0.08},
        head_pitch_deg=1.5,
        head_motion=1.1,
    ),
}


def emotion(name: str) -> Emotion:
    if name not in EMOTIONS:
        raise VasaError(f"Emotion {name!r} is unknown; use one of {', '.join(EMOTIONS)}.")
    return EMOTIONS[name]
