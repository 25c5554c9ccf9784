"""Ditto's per-frame condition rows: HuBERT features plus the controls, from our settings.

Ditto's ``ConditionHandler`` (``core/atomic_components/condition_handler.py``) appends to
each frame's 1024 HuBERT features, in this order: an emotion distribution over 8 classes
(Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise, Contempt: one class at logit 8, the
rest 0, softmax), the photo's two eye-open ratios, its two eye-ball offsets (3 each) and its
canonical keypoints (63, ``sc``): 1024 + 8 + 2 + 6 + 63 = 1103. The eye measures are
``core/utils/eye_info.py``'s ``EyeAttrUtilsByMP`` on MediaPipe's 478 landmarks of the crop,
normalised to its size; we compute them from the built-in analysis' landmarks moved into
the same crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hubert import WIDTH

EMOTION_CLASSES = ("Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise", "Contempt")
# Our emotions (core/motion/emotion.py) -> Ditto's classes.
OUR_EMOTION = {
    "neutral": "Neutral",
    "happy": "Happy",
    "sad": "Sad",
    "angry": "Angry",
    "surprised": "Surprise",
}
EMOTION_LOGIT = 8.0  # Ditto's _get_emo_avg
COND_WIDTH = WIDTH + 8 + 2 + 6 + 63  # 1103

# MediaPipe indices used by Ditto's EyeAttrUtilsByMP. Its "L" eye (33, 133, iris 468) is the
# subject's right eye; our iris array holds the subject's right eye first.
EYE_CORNERS = ((33, 133), (263, 362))  # outer, inner
EYE_LIDS = (
    ((145, 159), (144, 160), (153, 158)),
    ((374, 386), (373, 387), (380, 385)),
)


def emotion_vector(emotion: str, intensity: float) -> np.ndarray:
    """[8] Ditto's emotion distribution for one of our emotions, blended from Neutral's by
    ``intensity`` (0 = Neutral's, 1 = the emotion's own, as Ditto makes it)."""

    def one(name: str) -> np.ndarray:
        logits = np.zeros(8)
        logits[EMOTION_CLASSES.index(name)] = EMOTION_LOGIT
        e = np.exp(logits - logits.max())
        return e / e.sum()

    target = one(OUR_EMOTION[emotion])
    k = float(np.clip(intensity, 0.0, 1.0))
    return ((1 - k) * one("Neutral") + k * target).astype(np.float32)


def eye_measures(points: np.ndarray, irises: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ditto's eye-open ratios [2] and eye-ball offsets [6] from 468 landmarks and the two
    iris centres, all [*, 3] in crop units (x, y / crop size; z on the same scale).

    Open ratio: the three lid gaps over the corner-to-corner width. Ball offset: the iris
    centre from the corners' midpoint, as (direction to the iris minus the eye's inner-to-
    outer direction) times the distance, laid out [x_r, x_l, y_r, y_l, z_r, z_l] as Ditto's
    ``LR_ball_move().reshape(-1, 6)`` of a [3, 2] array."""
    opens, balls = [], []
    for side in range(2):
        outer, inner = (points[i] for i in EYE_CORNERS[side])
        width = np.linalg.norm(outer - inner)
        gaps = sum(np.linalg.norm(points[a] - points[b]) for a, b in EYE_LIDS[side])
        opens.append(gaps / (width + 1e-8))
        centre = (outer + inner) / 2
        ball = irises[side]
        dist = np.linalg.norm(ball - centre)
        to_ball = (ball - centre) / (dist + 1e-8)
        axis = (outer - inner) / (width + 1e-8)
        balls.append((to_ball - axis) * dist)
    return np.array(opens, np.float32), np.stack(balls, axis=-1).reshape(6).astype(np.float32)


@dataclass(frozen=True)
class Controls:
    """The non-audio part of every condition row."""

    emotion: np.ndarray  # [8]
    eye_open: np.ndarray  # [2]
    eye_ball: np.ndarray  # [6]
    canonical: np.ndarray  # [63], the photo's canonical keypoints (Ditto's "sc")

    def row(self) -> np.ndarray:
        return np.concatenate([self.emotion, self.eye_open, self.eye_ball, self.canonical])


def condition_rows(audio: np.ndarray, controls: Controls) -> np.ndarray:
    """[n, 1103] float32: each frame's HuBERT features then the controls."""
    tail = np.broadcast_to(controls.row().astype(np.float32), (len(audio), COND_WIDTH - WIDTH))
    return np.concatenate([np.asarray(audio, np.float32), tail], axis=1)
