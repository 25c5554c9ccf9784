"""``capture_video``: a talking-face video -> a MotionTrack, and ``write_capture``: the
track as a take folder (``motion.npz`` and a ``run.json`` of kind ``capture``).

A plain function API for the command line and the Blender operator alike: progress is
``(fraction, message)``, cancel an Event or a callable, and bad input one sentence.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..face.analyzer import FaceAnalyzer
from ..face.measure import FEATURES
from ..motion.track import MotionTrack
from ..runtime.factory import landmark_meter
from ..runtime.packs import sha256_file
from ..take.generate import engine_info, now, versions
from ..take.loop import Cancel
from ..take.record import FramesInfo, RunRecord, TakeFolder
from ..take.settings import Settings
from .channels import to_track
from .fill import describe_gaps, fill_missing, gaps
from .measure import Measurements, measure_frames
from .smooth import one_euro_zero_lag
from .video import VideoError, VideoInfo, probe_video, read_frames

Progress = Callable[[float, str], None]
GENERATOR = "capture"


@dataclass
class CaptureOptions:
    """One-Euro smoothing of the measurements (in units of each one's spread):
    ``min_cutoff`` Hz when still, rising by ``beta`` Hz per spread-per-second of speed."""

    smooth: bool = True
    min_cutoff: float = 1.5
    beta: float = 1.0


@dataclass
class CaptureResult:
    track: MotionTrack
    video: VideoInfo
    found: np.ndarray  # bool per frame: a face was read
    gaps: list[tuple[int, int]]  # frames without a face, 1-based inclusive ranges
    notes: list[str] = field(default_factory=list)
    measurements: Measurements | None = None
    seconds: float = 0.0


def smooth_features(values: np.ndarray, fps: float, options: CaptureOptions) -> np.ndarray:
    """Each feature through the One-Euro filter forwards and backwards (no lag), scaled by
    its own spread first."""
    if not options.smooth:
        return values
    out = values.copy()
    for k in range(values.shape[1]):
        spread = float(np.std(values[:, k]))
        if spread < 1e-9:
            continue
        unit = values[:, k] / spread
        out[:, k] = one_euro_zero_lag(unit, fps, options.min_cutoff, options.beta) * spread
    return out


def capture_video(
    path: str | Path,
    options: CaptureOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
    analyzer: FaceAnalyzer | None = None,
    keep_landmarks: bool = False,
) -> CaptureResult:
    """Read ``path`` and return its MotionTrack; ``VideoError`` when the file is unusable or
    shows no face at all, ``CancelledError`` on cancel. ``keep_landmarks`` keeps each
    frame's landmarks in ``result.measurements`` (self-reenactment compares them)."""
    options = options or CaptureOptions()
    report = progress or (lambda fraction, message: None)
    t0 = time.perf_counter()
    report(0.0, "Reading the video")
    info = probe_video(path)
    analyzer = analyzer or landmark_meter()
    n = max(info.n_frames, 1)

    def on_frame(i: int) -> None:
        if i % 10 == 0 or i == n - 1:
            report(0.02 + 0.96 * min(1.0, (i + 1) / n), f"Frame {i + 1} of {n}")

    measured = measure_frames(
        read_frames(info), analyzer, info.fps, None, keep_landmarks, on_frame, cancel
    )
    if measured.n_frames != info.n_frames:  # the packets counted, the frames decoded
        info = replace(info, n_frames=measured.n_frames)
    if not measured.found.any():
        raise VideoError(
            f"No face is found in any frame of {info.path.name}; give a video where one face "
            "is clearly visible."
        )
    values = fill_missing(measured.values, measured.found)
    values = smooth_features(values, info.fps, options)
    track = to_track(values, info.fps)
    notes = [text] if (text := describe_gaps(measured.found)) else []
    track.meta |= {
        "generator": GENERATOR,
        "lipsync_mode": None,
        "notes": notes,
        "video": str(info.path),
        "capture": {"smooth": options.smooth, "min_cutoff": options.min_cutoff,
                    "beta": options.beta, "features": list(FEATURES)},
    }  # fmt: skip
    report(1.0, "Done")
    return CaptureResult(
        track,
        info,
        measured.found,
        gaps(measured.found),
        notes,
        measured,
        round(time.perf_counter() - t0, 3),
    )


def write_capture(result: CaptureResult, out_dir: str | Path, overwrite: bool = False) -> Path:
    """A take folder with ``motion.npz`` and ``run.json`` (kind ``capture``, no frames)."""
    folder = TakeFolder(out_dir)
    folder.prepare(overwrite, folders=())
    folder.save_track(result.track)
    info = result.video
    missing = int((~result.found).sum())
    record = RunRecord(
        engine=engine_info(),
        status="complete",
        fps=info.fps,
        n_frames=result.track.n_frames,
        settings=Settings(fps=info.fps),
        frames=FramesInfo(),
        kind="capture",
        inputs={
            "video": {
                "path": str(info.path.resolve()),
                "sha256": sha256_file(info.path),
                "size": [info.width, info.height],
                "fps": info.fps,
                "n_frames": info.n_frames,
            }
        },
        motion={"generator": GENERATOR, "lipsync_mode": None, "notes": result.notes},
        versions=versions(),
        started_at=now(),
        finished_at=now(),
        frames_written=0,
        timings_s={"total": result.seconds},
        extra={
            "capture": {
                "frames_without_face": missing,
                "ranges_without_face": [list(r) for r in result.gaps],
                "detector_frames": result.measurements.detector_runs
                if result.measurements is not None
                else None,
                "smoothing": result.track.meta.get("capture", {}),
            }
        },
    )
    folder.write_record(record, last=True)
    return folder.path
