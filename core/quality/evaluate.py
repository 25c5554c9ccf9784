"""Quality measured on rendered frames: a second landmark pass over the output.

For each frame the face-landmark model measures the head's yaw, pitch and roll (a rigid
fit of the 3-D landmarks to the source face's), the mouth opening, each eye's opening
and whether the face is found at all. Set against the MotionTrack that made the frames,
this says whether the head follows the pose curves, the mouth the jaw, the lids the
blinks; the background is compared with the photo, and a still stretch is checked for
jitter. ``python -m core evaluate --take DIR`` writes ``evaluate.json`` and a plot.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .. import ENGINE_NAME
from ..errors import VasaError
from ..face.analyzer import FaceAnalyzer
from ..face.measure import eye_openings, head_rotation, mouth_opening, rotation_angles
from ..face.portrait import load_image
from ..face.source import SourceFace
from ..motion.track import MotionTrack
from ..render.frame import FaceFrame
from ..render.head import head_weight
from ..runtime.factory import landmark_meter, open_stages
from ..take.frames import FrameWriter, read_frame
from ..take.generate import engine_info, now, provenance
from ..take.loop import FrameTarget, render_frames
from ..take.record import RunRecord, TakeFolder
from ..take.settings import Settings

# Measured series compared with the channel that should drive them (sign: +1 = rises with it).
FOLLOWS = {
    "yaw": ("head_yaw", 1.0),
    "pitch": ("head_pitch", 1.0),
    "roll": ("head_roll", 1.0),
    "mouth": ("jawOpen", 1.0),
    "eye_right": ("eyeBlinkRight", -1.0),
    "eye_left": ("eyeBlinkLeft", -1.0),
}
MIN_SPREAD = 1e-3  # a channel that varies less than this is not tested for correlation


def measure_eyes(analyzer: FaceAnalyzer, frame: np.ndarray) -> tuple[float, float] | None:
    """Eye openings of the largest face in ``frame`` (None when no face is found)."""
    lm = analyzer.measure(frame)
    if lm is None:
        return None
    return eye_openings(analyzer.irises(frame, lm)[1])


@dataclass
class FrameMeasure:
    found: bool
    yaw: float = math.nan
    pitch: float = math.nan
    roll: float = math.nan
    mouth: float = math.nan
    eye_right: float = math.nan
    eye_left: float = math.nan
    landmarks: np.ndarray | None = field(default=None, repr=False)


class FrameMeter:
    """Measures rendered frames of one portrait against its source face."""

    def __init__(self, image: np.ndarray, face: SourceFace, analyzer: FaceAnalyzer):
        self.image = image
        self.face = face
        self.analyzer = analyzer
        self.frame = FaceFrame.of(face)
        h, w = image.shape[:2]
        ys, xs = np.mgrid[0:h, 0:w]
        pts = np.stack([xs + 0.5, ys + 0.5], -1).astype(np.float64)
        # "Far from the head": beyond the reach of the head's pose (head.HEAD_FALLOFF).
        weight = head_weight(self.frame, pts)
        up = self.frame.to_face(pts.reshape(-1, 2))
        self.far = (weight.reshape(-1) == 0) & (
            np.hypot(up[:, 0] / self.frame.fw, up[:, 1] / self.frame.fh) > 1.0
        )
        self.far = self.far.reshape(h, w)
        self.base = self.measure(image)

    def measure(self, frame: np.ndarray) -> FrameMeasure:
        lm = self.analyzer.measure(frame)
        if lm is None:
            return FrameMeasure(False)
        yaw, pitch, roll = rotation_angles(
            head_rotation(self.face.landmarks.astype(np.float64), lm.astype(np.float64))
        )
        right, left = eye_openings(self.analyzer.irises(frame, lm)[1])
        return FrameMeasure(True, yaw, pitch, roll, mouth_opening(lm), right, left, lm)

    def background_change(self, frame: np.ndarray) -> float:
        """Mean absolute change (grey levels) of the pixels far from the head."""
        if not self.far.any():
            return 0.0
        diff = np.abs(frame.astype(np.int16) - self.image.astype(np.int16)).mean(2)
        return float(diff[self.far].mean())


def _corr(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(b[ok]) < MIN_SPREAD or np.std(a[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def evaluate_frames(
    meter: FrameMeter,
    frames: Iterable[np.ndarray],
    track: MotionTrack,
    indices: list[int] | None = None,
) -> dict:
    """Measure ``frames`` (rendered from ``track`` at ``indices``) and summarise."""
    indices = list(range(track.n_frames)) if indices is None else indices
    rows, background = [], []
    for frame in frames:
        rows.append(meter.measure(frame))
        background.append(meter.background_change(frame))
    series = {k: np.array([getattr(r, k) for r in rows]) for k in FOLLOWS}
    base = meter.base
    report: dict = {"frames": len(rows), "detected": int(sum(r.found for r in rows))}
    follow = {}
    drivers = [c for c, _ in FOLLOWS.values() if c in track.channels]
    data = track.data[indices]
    neutral = MotionTrack.neutral(1, track.fps, track.channels).data[0]
    for key, (channel, sign) in FOLLOWS.items():
        if channel not in track.channels:
            continue
        # Only frames where the other driving channels rest, so that a blink is not
        # judged on frames where the head turns.
        others = [track.index(c) for c in drivers if c != channel]
        alone = np.all(np.isclose(data[:, others], neutral[others], atol=1e-4), axis=1)
        values = track[channel][indices]
        c = _corr(series[key][alone], values[alone])
        if c is not None:
            follow[key] = {"channel": channel, "correlation": round(sign * c, 4)}
    report["follows"] = follow
    report["background_change_grey_levels"] = round(float(np.mean(background)), 4)
    report["jitter_face_widths"] = _jitter(rows, track, indices, meter.frame.fw)
    report["source"] = {k: (round(getattr(base, k), 4) if base.found else None) for k in FOLLOWS}
    report["series"] = {
        k: [None if not np.isfinite(v) else round(float(v), 5) for v in s]
        for k, s in series.items()
    }
    report["indices"] = indices
    return report


def _jitter(
    rows: list[FrameMeasure], track: MotionTrack, indices: list[int], fw: float
) -> float | None:
    """Mean landmark motion between consecutive measured frames whose channels are equal."""
    moves = []
    pairs = list(zip(indices, rows, strict=True))
    for (i, a), (j, b) in zip(pairs, pairs[1:], strict=False):
        if a.landmarks is None or b.landmarks is None:
            continue
        if np.array_equal(track.data[i], track.data[j]):
            moves.append(np.linalg.norm(a.landmarks[:, :2] - b.landmarks[:, :2], axis=1).mean())
    return round(float(np.mean(moves)) / fw, 6) if moves else None


def sweep_track(fps: float = 25.0, steps: int = 9) -> MotionTrack:
    """Each tested channel swept alone from neutral to both extremes, then a still stretch."""
    sweeps = [
        ("head_yaw", -20, 20),
        ("head_pitch", -15, 15),
        ("head_roll", -15, 15),
        ("jawOpen", 0, 1),
        ("eyeBlinkLeft", 0, 1),
        ("eyeBlinkRight", 0, 1),
    ]
    n = len(sweeps) * steps + 4
    track = MotionTrack.neutral(n, fps)
    for k, (name, lo, hi) in enumerate(sweeps):
        start = k * steps
        track.data[start : start + steps, track.index(name)] = np.linspace(lo, hi, steps)
    track.meta["sweep"] = [s[0] for s in sweeps]
    return track


# -- plot (numpy + cv2, no plotting library) -------------------------------------------------
def plot_report(report: dict, track: MotionTrack, path: Path) -> None:
    """One panel per followed channel: the channel (grey) and the measurement (colour),
    each scaled to its own range."""
    keys = [k for k in FOLLOWS if FOLLOWS[k][0] in track.channels]
    pw, ph, pad = 640, 130, 8
    canvas = np.full((len(keys) * (ph + pad) + pad, pw + 2 * pad, 3), 255, np.uint8)
    indices = report["indices"]
    for row, key in enumerate(keys):
        channel, sign = FOLLOWS[key]
        y0 = pad + row * (ph + pad)
        cv2.rectangle(canvas, (pad, y0), (pad + pw, y0 + ph), (220, 220, 220), 1)
        measured = np.array([np.nan if v is None else v for v in report["series"][key]])
        for values, colour in (
            (track[channel][indices] * sign, (150, 150, 150)),
            (measured, (40, 90, 200)),
        ):
            _polyline(canvas, values, (pad, y0, pw, ph), colour)
        corr = report["follows"].get(key, {}).get("correlation")
        label = f"{key} vs {channel}" + (f"  r = {corr:.3f}" if corr is not None else "")
        cv2.putText(
            canvas,
            label,
            (pad + 6, y0 + 16),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    cv2.imwrite(str(path), canvas)


def _polyline(
    canvas: np.ndarray,
    values: np.ndarray,
    box: tuple[int, int, int, int],
    colour: tuple[int, int, int],
) -> None:
    x0, y0, w, h = box
    ok = np.isfinite(values)
    if ok.sum() < 2:
        return
    lo, hi = float(values[ok].min()), float(values[ok].max())
    span = hi - lo if hi > lo else 1.0
    xs = x0 + np.arange(len(values)) * (w - 1) / max(len(values) - 1, 1)
    ys = y0 + h - 22 - (values - lo) / span * (h - 30)
    pts = np.stack([xs, ys], 1)[ok].round().astype(np.int32)
    cv2.polylines(canvas, [pts], False, colour, 2, cv2.LINE_AA)


# -- a take on disk --------------------------------------------------------------------------
def evaluate_take(take: str | Path, stride: int = 1) -> dict:
    """Measure a take folder's frames; write ``evaluate.json`` and ``evaluate.png`` in it."""
    folder = TakeFolder(take)
    record, track = folder.read()
    if record.status != "complete":
        raise VasaError(
            f"The take in {folder.path} did not finish (status {record.status!r}); "
            "generate it again before evaluating it."
        )
    image = load_image(record.inputs["image"]["path"])
    analyzer = landmark_meter()
    meter = FrameMeter(image, analyzer.analyze(image), analyzer)
    fmt = record.frames.format
    indices = list(range(0, track.n_frames, max(1, stride)))
    paths = [folder.frame_path(i + 1, fmt, record.frames.folder) for i in indices]
    missing = [p for p in paths if not p.exists()]
    if missing:
        raise VasaError(
            f"{len(missing)} frames of {folder.path} are missing (first: {missing[0].name});"
            " generate the take again."
        )
    report = evaluate_frames(meter, (read_frame(p, fmt) for p in paths), track, indices)
    report["take"] = str(folder.path)
    (folder.path / "evaluate.json").write_text(json.dumps(report, indent=1) + "\n")
    plot_report(report, track, folder.path / "evaluate.png")
    return report


def render_sweep(
    image_path: str | Path, take: str | Path, fps: float = 25.0, pack: str | Path | None = None
) -> Path:
    """Render ``sweep_track`` of a portrait with ``pack``'s stages into a new take folder
    (frames, motion, run.json) that ``evaluate_take`` can measure."""
    image_path = Path(image_path)
    folder = TakeFolder(take)
    image = load_image(image_path)
    stages = open_stages(pack)
    face = stages.face.analyze(image, image_path.name)
    renderer = stages.renderer(image, face)
    track = sweep_track(fps)
    settings = Settings(fps=fps, pack=None if pack is None else str(pack))
    folder.prepare(overwrite=False)
    track.meta |= {"image": str(image_path), "sweep": True}
    folder.save_track(track)
    text = provenance(f"Synthetic test sweep generated by {ENGINE_NAME} from {image_path.name}.")
    record = RunRecord(
        engine=engine_info(),
        status="running",
        fps=fps,
        n_frames=track.n_frames,
        settings=settings,
        kind="evaluation sweep",
        inputs={"image": {"path": str(image_path.resolve()), "size": list(face.image_size)}},
        pack=stages.pack.describe(),
        started_at=now(),
    )
    folder.write_record(record)
    target = FrameTarget(FrameWriter(folder.frames_dir, text))
    record.status = "failed"
    try:
        record.status = render_frames(renderer, track, range(track.n_frames), [target])
    except BaseException as exc:
        record.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        record.frames_written = target.writer.written
        record.finished_at = now()
        folder.write_record(record)
    if record.status == "cancelled":
        raise KeyboardInterrupt  # the frame loop took Ctrl-C as a cancel: stop the command
    return folder.path
