"""``python -m core calibrate --video VIDEO --out DIR``: a real talking clip against a take
made from its own first frame and sound, both measured the same way.

The clip's sound becomes ``DIR/audio.wav`` and its first frame ``DIR/first_frame.png``; a
take with the default settings (or the given ones) goes to ``DIR/take``. Both clips are
read by ``capture.measure`` against the same reference (the first frame's face), speech
frames come from the sound's loudness (the lip sync's own speech mask), and the
statistics of ``quality.calibration`` are written to ``DIR/calibration.json`` with a plot
``DIR/calibration.png``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from ..audio import compute_features, load_audio
from ..capture.measure import Measurements, measure_frames
from ..capture.video import VideoError, extract_audio, probe_video, read_frames
from ..errors import OutputError
from ..face.measure import read_face
from ..motion.lipsync import speech_mask
from ..runtime.factory import landmark_meter
from ..take.frames import read_frame
from ..take.generate import generate
from ..take.record import TakeFolder
from ..take.settings import Settings
from .calibration import compare, format_table, runs, talk_statistics

Report = Callable[[str], None]
PLOTTED = (("yaw", "deg"), ("pitch", "deg"), ("roll", "deg"), ("mouth", "fw"), ("eye_right", ""))


def speech_frames(audio: Path, fps: float, n_frames: int) -> np.ndarray:
    """Speech per video frame, as the lip sync decides it (loudness with hysteresis)."""
    features = compute_features(load_audio(audio), fps)
    mask = speech_mask(features.loudness)
    out = np.zeros(n_frames, bool)
    out[: min(n_frames, len(mask))] = mask[:n_frames]
    return out


def calibrate_video(
    video: str | Path,
    out_dir: str | Path,
    settings: Settings | None = None,
    report: Report | None = None,
) -> dict:
    """Run the comparison; returns what ``calibration.json`` holds."""
    say = report or (lambda line: None)
    info = probe_video(video)
    if not info.has_audio:
        raise VideoError(f"{info.path.name} has no sound; the calibration needs a talking clip.")
    out = Path(out_dir)
    if (out / "calibration.json").exists() or (out / "take").exists():
        raise OutputError(f"{out} already holds a calibration; choose a new --out folder.")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(
            f"{out} cannot be created ({exc.strerror}); choose another --out."
        ) from exc
    audio = extract_audio(info, out / "audio.wav")
    first = next(read_frames(info))
    portrait = out / "first_frame.png"
    cv2.imwrite(str(portrait), cv2.cvtColor(first, cv2.COLOR_RGB2BGR))
    analyzer = landmark_meter()
    reference = read_face(analyzer, first)
    if reference is None:
        raise VideoError(f"No face is found in the first frame of {info.path.name}; trim the clip.")
    say(f"measuring {info.path.name}: {info.n_frames} frames at {info.fps:g} fps")
    real = measure_frames(read_frames(info), analyzer, info.fps, reference)
    settings = settings or Settings()
    settings.fps = info.fps
    say("generating a take from the first frame and the sound (default settings)")
    take = generate(portrait, audio, out / "take", settings)
    record, _track = TakeFolder(take.out_dir).read()
    fmt = record.frames.format
    paths = [TakeFolder(take.out_dir).frame_path(i + 1, fmt) for i in range(take.n_frames)]
    say(f"measuring the take: {take.n_frames} frames")
    made = measure_frames((read_frame(p, fmt) for p in paths), analyzer, info.fps, reference)
    n = min(real.n_frames, made.n_frames)
    speech = speech_frames(audio, info.fps, n)
    real_stats = talk_statistics(real, speech, info.fps)
    made_stats = talk_statistics(made, speech, info.fps)
    table = compare(real_stats, made_stats)
    result = {
        "video": str(info.path.resolve()),
        "fps": info.fps,
        "frames": n,
        "speech_frames": int(speech.sum()),
        "faces_found": {"real": int(real.found.sum()), "generated": int(made.found.sum())},
        "settings": settings.to_dict(),
        "statistics": table,
    }
    (out / "calibration.json").write_text(json.dumps(result, indent=1) + "\n")
    plot_calibration(real, made, speech, out / "calibration.png")
    say(format_table(table))
    return result


def plot_calibration(
    real: Measurements, made: Measurements, speech: np.ndarray, path: Path
) -> None:
    """One panel per series: real (dark) and generated (orange) on a shared scale, speech
    frames shaded."""
    pw, ph, pad = 900, 120, 8
    n = len(speech)
    canvas = np.full((len(PLOTTED) * (ph + pad) + pad, pw + 2 * pad, 3), 255, np.uint8)
    xs = pad + np.arange(n) * (pw - 1) / max(n - 1, 1)
    for row, (key, unit) in enumerate(PLOTTED):
        y0 = pad + row * (ph + pad)
        for a, b in runs(speech):
            cv2.rectangle(canvas, (int(xs[a]), y0), (int(xs[b - 1]), y0 + ph), (235, 235, 235), -1)
        cv2.rectangle(canvas, (pad, y0), (pad + pw, y0 + ph), (200, 200, 200), 1)
        series = [real[key][:n], made[key][:n]]
        both = np.concatenate(series)
        both = both[np.isfinite(both)]
        if both.size < 2:
            continue
        lo, hi = float(both.min()), float(both.max())
        span = hi - lo if hi > lo else 1.0
        for values, colour in zip(series, ((60, 60, 60), (0, 140, 255)), strict=True):
            ok = np.isfinite(values)
            ys = y0 + ph - 8 - (values - lo) / span * (ph - 28)
            pts = np.stack([xs, ys], 1)[ok].round().astype(np.int32)
            cv2.polylines(canvas, [pts], False, colour, 1, cv2.LINE_AA)
        label = f"{key} ({unit})  real: grey, generated: orange" if unit else f"{key}"
        cv2.putText(
            canvas,
            label,
            (pad + 6, y0 + 15),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    cv2.imwrite(str(path), canvas)
