"""Plot the motion channels of a clip above its waveform: ``docs/motion_channels.png``.

Drawn with numpy and OpenCV (already dependencies), so no plotting library is needed:

    .venv/bin/python tools/plot_motion.py [--audio samples/speech.wav] [--out PNG]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import SAMPLE_RATE, compute_features, load_audio  # noqa: E402
from core.motion.procedural import generate_motion  # noqa: E402
from core.motion.settings import MotionSettings  # noqa: E402

WIDTH, LEFT, RIGHT = 1600, 190, 20
PANEL_H, GAP = 150, 28
COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
]
PANELS = [
    (
        "mouth (0..1)",
        (0.0, 1.0),
        [
            "jawOpen",
            "mouthClose",
            "mouthFunnel",
            "mouthPucker",
            "mouthSmileLeft",
            "mouthPressLeft",
            "mouthRollLower",
        ],
    ),
    ("eyes (0..1)", (0.0, 1.0), ["eyeBlinkLeft"]),
    ("gaze (deg)", None, ["gaze_yaw", "gaze_pitch"]),
    ("head (deg)", None, ["head_yaw", "head_pitch", "head_roll"]),
]


def _bgr(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    return rgb[2], rgb[1], rgb[0]


def _text(img, s, xy, scale=0.45, colour=(40, 40, 40)):
    cv2.putText(img, s, xy, cv2.FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv2.LINE_AA)


def plot(audio: Path, out: Path, seed: int = 0, fps: float = 25.0) -> Path:
    samples = load_audio(audio)
    features = compute_features(samples, fps)
    track = generate_motion(features, MotionSettings(seed=seed), samples)
    n = track.n_frames
    height = (len(PANELS) + 1) * (PANEL_H + GAP) + 60
    img = np.full((height, WIDTH, 3), 255, np.uint8)
    plot_w = WIDTH - LEFT - RIGHT
    xs = LEFT + np.arange(n) / max(n - 1, 1) * plot_w
    mode = track.meta["lipsync_mode"]
    _text(
        img,
        f"{audio.name}: MotionTrack channels (lip sync {mode}, seed {seed}, {fps:g} fps)",
        (LEFT, 24),
        0.6,
    )
    top = 44
    for title, limits, names in PANELS:
        values = np.stack([track[name] for name in names])
        lo, hi = limits or (float(values.min()) - 0.5, float(values.max()) + 0.5)
        cv2.rectangle(img, (LEFT, top), (LEFT + plot_w, top + PANEL_H), (200, 200, 200), 1)
        if lo < 0 < hi:
            y0 = int(top + PANEL_H * (hi - 0) / (hi - lo))
            cv2.line(img, (LEFT, y0), (LEFT + plot_w, y0), (225, 225, 225), 1)
        _text(img, title, (8, top + 16), 0.5)
        _text(img, f"{hi:.3g}", (LEFT - 40, top + 12), 0.4)
        _text(img, f"{lo:.3g}", (LEFT - 40, top + PANEL_H), 0.4)
        for k, (name, v) in enumerate(zip(names, values, strict=True)):
            ys = top + PANEL_H * (hi - v) / (hi - lo)
            pts = np.stack([xs, ys], 1).round().astype(np.int32)
            colour = _bgr(COLOURS[k % len(COLOURS)])
            cv2.polylines(img, [pts], False, colour, 1, cv2.LINE_AA)
            _text(img, name, (8, top + 34 + 15 * k), 0.4, colour)
        top += PANEL_H + GAP
    # Waveform underneath, with the time axis.
    wave = samples[: int(n / fps * SAMPLE_RATE)]
    cols = np.array_split(wave, plot_w)
    mid = top + PANEL_H // 2
    peak = max(float(np.abs(wave).max()), 1e-6)
    for x, col in enumerate(cols):
        if len(col):
            a, b = float(col.min()) / peak, float(col.max()) / peak
            cv2.line(
                img,
                (LEFT + x, int(mid - b * PANEL_H / 2)),
                (LEFT + x, int(mid - a * PANEL_H / 2)),
                (90, 90, 90),
                1,
            )
    cv2.rectangle(img, (LEFT, top), (LEFT + plot_w, top + PANEL_H), (200, 200, 200), 1)
    _text(img, "waveform", (8, top + 16), 0.5)
    duration = n / fps
    for s in range(int(duration) + 1):
        x = int(LEFT + s / duration * plot_w)
        cv2.line(img, (x, top + PANEL_H), (x, top + PANEL_H + 5), (80, 80, 80), 1)
        _text(img, f"{s} s", (x - 8, top + PANEL_H + 20), 0.4)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), img)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio", type=Path, default=ROOT / "samples" / "speech.wav")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "motion_channels.png")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(plot(args.audio, args.out, args.seed))


if __name__ == "__main__":
    main()
