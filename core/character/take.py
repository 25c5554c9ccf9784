"""A character take: the motion only (``motion.npz`` and ``run.json``, no frames).

Made from the voice (the pack's motion generator, as Generate uses it, but nothing is
rendered, so it takes seconds), or from a motion file (a capture, an imported Live Link
CSV, another take) put on the scene's frame rate. The folder is laid out like every take
(``core.take.record``), with ``run.json`` ``kind`` saying which.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..audio import SAMPLE_RATE, compute_features, read_audio
from ..errors import VasaError
from ..motion.track import MotionTrack
from ..runtime.packs import sha256_file
from ..take.generate import engine_info, now, versions
from ..take.loop import Cancel, is_cancelled
from ..take.record import RunRecord, TakeFolder
from ..take.settings import Settings
from .timing import resample

Progress = Callable[[float, str], None]


@dataclass
class MotionTake:
    out_dir: Path
    status: str  # complete, cancelled
    track: MotionTrack | None
    notes: list[str] = field(default_factory=list)


def write_motion_take(
    out_dir: str | Path,
    track: MotionTrack,
    kind: str,
    inputs: dict,
    settings: Settings,
    started: str,
    timings: dict[str, float] | None = None,
) -> None:
    """``motion.npz`` and a complete ``run.json`` of ``kind`` in ``out_dir`` (refused when it
    holds another take and ``settings.overwrite`` is off)."""
    take = TakeFolder(out_dir)
    take.prepare(settings.overwrite, ())
    take.save_track(track)
    record = RunRecord(
        engine=engine_info(),
        status="complete",
        fps=track.fps,
        n_frames=track.n_frames,
        settings=settings,
        kind=kind,
        inputs=inputs,
        seed=settings.seed,
        motion={key: track.meta.get(key) for key in ("generator", "lipsync_mode", "notes")},
        versions=versions(),
        started_at=started,
        finished_at=now(),
        frames_written=0,
        timings_s=timings or {},
    )
    take.write_record(record, last=True)


def voice_take(
    audio: str | Path,
    out_dir: str | Path,
    settings: Settings,
    progress: Progress | None = None,
    cancel: Cancel = None,
) -> MotionTake:
    """The motion the pack's generator makes from ``audio`` at ``settings.fps``, saved as a
    take in ``out_dir``; nothing is written when cancelled."""
    from ..runtime.factory import open_stages

    settings.validate()
    report = progress or (lambda fraction, message: None)
    started, t0 = now(), time.perf_counter()
    audio = Path(audio)
    report(0.0, "Reading the voice")
    voice = read_audio(audio)
    if is_cancelled(cancel):
        return MotionTake(Path(out_dir), "cancelled", None)
    report(0.1, "Loading the motion model")
    stages = open_stages(settings.pack, provider=settings.provider, threads=settings.threads)
    if is_cancelled(cancel):
        return MotionTake(Path(out_dir), "cancelled", None)
    report(0.2, "Analysing the voice")
    features = compute_features(voice.samples, settings.fps)
    track = stages.motion.generate(
        features,
        settings.motion,
        voice.samples,
        progress=lambda f: report(0.25 + 0.7 * f, "Making the motion"),
    )
    if is_cancelled(cancel):
        return MotionTake(Path(out_dir), "cancelled", None)
    track.meta["notes"] = [*voice.notes, *track.meta.get("notes", [])]
    track.meta["audio"] = str(audio)
    inputs = {
        "audio": {
            "path": str(audio.resolve()),
            "sha256": voice.sha256 or sha256_file(audio),
            "duration_s": round(len(voice.samples) / SAMPLE_RATE, 4),
        }
    }
    timings = {"total": round(time.perf_counter() - t0, 4)}
    write_motion_take(out_dir, track, "character motion", inputs, settings, started, timings)
    report(1.0, "Done")
    return MotionTake(Path(out_dir), "complete", track, list(track.meta["notes"]))


def read_motion_file(path: str | Path) -> MotionTrack:
    """A MotionTrack from a ``motion.npz`` or a take folder; one sentence when it is not."""
    path = Path(path)
    folder = TakeFolder(path if path.is_dir() else path.parent)
    if path.is_dir():
        return folder.read_track()
    if not path.is_file():
        raise VasaError(f"There is no motion file {path}; check the path.")
    try:
        return MotionTrack.load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable archive: one sentence
        raise VasaError(
            f"{path} cannot be read as a motion.npz ({type(exc).__name__}); choose a take's "
            "motion.npz."
        ) from exc


def motion_file_take(
    motion: str | Path, out_dir: str | Path, settings: Settings, kind: str = "character motion"
) -> MotionTake:
    """A take in ``out_dir`` from a given motion file, put on ``settings.fps``."""
    settings.validate()
    started = now()
    source = read_motion_file(motion)
    track = resample(source, settings.fps)
    notes = list(track.meta.get("notes") or [])
    if abs(source.fps - settings.fps) > 1e-6:
        notes.append(f"the motion was resampled from {source.fps:g} to {settings.fps:g} fps")
    track.meta["notes"] = notes
    path = Path(motion)
    path = path / "motion.npz" if path.is_dir() else path
    inputs = {"motion": {"path": str(path.resolve()), "sha256": sha256_file(path)}}
    write_motion_take(out_dir, track, kind, inputs, settings, started)
    return MotionTake(Path(out_dir), "complete", track, notes)
