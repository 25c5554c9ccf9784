"""A take folder on disk, and its ``run.json`` as a typed record.

The folder format in one place::

    take/
      run.json            RunRecord: inputs and their sha256, settings, pack, provider,
                          timings, status (running, complete, cancelled, failed)
      motion.npz          the MotionTrack the frames were made from
      frames/             frame_000001.png ... (or .jpg, .exr), numbered from 1
      crop512/            with output "both": the 512x512 face crops
      .rerender/          a re-render's staging folder while it runs

``TakeFolder`` writes and reads all of it; generate, re-render, evaluate and the Blender
glue go through it, so nobody guesses a format from a file suffix or reads ``run.json``
with ``.get`` defaults of their own.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..errors import OutputError, VasaError
from ..motion.track import MotionTrack
from .frames import FRAME_FORMATS, frame_name, frame_pattern_printf, output_error, write_json
from .settings import Settings

RUN_JSON = "run.json"
MOTION_NPZ = "motion.npz"
FRAMES_DIR = "frames"
CROP_DIR = "crop512"  # with output "both": the 512x512 face crops beside frames/
STAGING_DIR = ".rerender"
RESERVE_FILE = ".reserve"  # disk space held for the take's last run.json
RESERVE_BYTES = 256 * 1024


class RecordError(ValueError):
    """run.json lacks a part every take has."""


@dataclass
class FramesInfo:
    """Where the frames are and how they are named."""

    folder: str = FRAMES_DIR
    first: int = 1
    format: str = "png"  # a FRAME_FORMATS key
    pattern: str = ""  # printf pattern (ffmpeg's), derived from the format

    def __post_init__(self) -> None:
        self.pattern = self.pattern or frame_pattern_printf(self.format)

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> FramesInfo:
        pattern = values.get("pattern", "")
        fmt = values.get("format") or next(
            (k for k, v in FRAME_FORMATS.items() if pattern.endswith(v.suffix)), "png"
        )
        return cls(values.get("folder", FRAMES_DIR), int(values.get("first", 1)), fmt, pattern)


@dataclass
class RunRecord:
    """``run.json``: what made a take and how it went. Optional parts are None until known."""

    engine: dict[str, str]
    status: str  # running, complete, cancelled or failed
    fps: float
    n_frames: int
    settings: Settings
    frames: FramesInfo = field(default_factory=FramesInfo)
    kind: str = "take"  # or "evaluation sweep"
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    seed: int | None = None
    face: dict[str, Any] | None = None
    motion: dict[str, Any] | None = None
    crop512: dict[str, Any] | None = None
    pack: dict[str, Any] | None = None
    versions: dict[str, str] | None = None
    started_at: str | None = None
    finished_at: str | None = None
    frames_written: int | None = None
    stopped_at_frame: int | None = None
    provider: str | None = None
    providers: dict[str, dict[str, Any]] | None = None
    timings_s: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    rerenders: list[dict[str, Any]] = field(default_factory=list)
    # Keys this version does not know (a newer version's, a pipeline tool's): kept as they
    # were, so that reading and writing a record back never loses them.
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The JSON object, parts that are not known left out."""
        out: dict[str, Any] = dict(self.extra)
        for f in fields(self):
            if f.name == "extra":
                continue
            value = getattr(self, f.name)
            if isinstance(value, Settings):
                value = value.to_dict()
            elif isinstance(value, FramesInfo):
                value = asdict(value)
            if value is None or (f.name == "rerenders" and not value):
                continue
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> RunRecord:
        """A record from ``run.json``; RecordError when a required part is missing, another
        ValueError or TypeError when a field has the wrong type."""
        known = {f.name for f in fields(cls)} - {"extra"}
        data = {k: v for k, v in values.items() if k in known}
        data["extra"] = {k: v for k, v in values.items() if k not in known}
        missing = [k for k in ("engine", "status", "n_frames") if k not in values]
        if missing:
            raise RecordError(f"it lacks {', '.join(missing)}")
        data["settings"] = Settings.from_dict(values.get("settings") or {})
        data["frames"] = FramesInfo.from_json(values.get("frames") or {})
        data["fps"] = float(values.get("fps", data["settings"].fps))
        data["n_frames"] = int(values["n_frames"])
        return cls(**data)


class TakeFolder:
    """One take's folder: paths, the record, the motion, the frame files."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.run_json = self.path / RUN_JSON
        self.motion_npz = self.path / MOTION_NPZ
        self.frames_dir = self.path / FRAMES_DIR
        self.staging = self.path / STAGING_DIR  # a re-render's frames until they are done
        self.reserve = self.path / RESERVE_FILE

    def frame_path(self, index: int, fmt: str, folder: str = FRAMES_DIR) -> Path:
        """File of frame ``index`` (1-based) in ``folder``."""
        return self.path / folder / frame_name(index, fmt)

    def holds_take(self) -> bool:
        frames = self.frames_dir
        return self.run_json.exists() or (frames.is_dir() and any(frames.iterdir()))

    def prepare(self, overwrite: bool, folders: tuple[str, ...] = (FRAMES_DIR,)) -> None:
        """Create the folder and empty frame ``folders``; refuse to mix with another take
        unless told to replace it (then its frames, crops, record and motion go first)."""
        if self.holds_take():
            if not overwrite:
                raise OutputError(
                    f"{self.path} already holds a take; choose a new folder or pass "
                    "--overwrite to replace it."
                )
            for folder in {FRAMES_DIR, CROP_DIR, *folders}:
                shutil.rmtree(self.path / folder, ignore_errors=True)
            for name in (RUN_JSON, MOTION_NPZ):
                (self.path / name).unlink(missing_ok=True)
        for folder in (".", *folders):
            target = self.path / folder
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise output_error(target, exc) from exc
        try:  # room for the last run.json, should the frames fill the disk
            self.reserve.write_bytes(bytes(RESERVE_BYTES))
        except OSError as exc:
            self.reserve.unlink(missing_ok=True)
            raise output_error(self.reserve, exc) from exc

    # -- run.json and motion.npz ---------------------------------------------------------
    def write_record(self, record: RunRecord, last: bool = False) -> None:
        """Write run.json atomically. The ``last`` write of a take may use the space that
        ``prepare`` reserved, so a take that filled the disk still ends ``failed``, not
        ``running``."""
        try:
            write_json(self.run_json, record.to_json())
        except OutputError:
            if not (last and self.reserve.exists()):
                raise
            self.reserve.unlink()
            write_json(self.run_json, record.to_json())
        if last:
            self.reserve.unlink(missing_ok=True)

    def read_record(self) -> RunRecord:
        try:
            values = json.loads(self.run_json.read_text())
        except FileNotFoundError as exc:
            raise self._incomplete(exc) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._damaged(RUN_JSON, "it is not valid JSON") from exc
        try:
            return RunRecord.from_json(values)
        except RecordError as exc:
            raise self._damaged(RUN_JSON, str(exc)) from exc
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            raise self._damaged(RUN_JSON, "a field has the wrong type") from exc

    def save_track(self, track: MotionTrack) -> None:
        track.save(self.motion_npz)

    def read_track(self) -> MotionTrack:
        try:
            return MotionTrack.load(self.motion_npz)
        except FileNotFoundError as exc:
            raise self._incomplete(exc) from exc
        except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            raise self._damaged(MOTION_NPZ, "it cannot be read as a MotionTrack") from exc

    def read(self) -> tuple[RunRecord, MotionTrack]:
        """The record and the MotionTrack, with one-sentence errors when either is missing."""
        return self.read_record(), self.read_track()

    def _damaged(self, name: str, why: str) -> VasaError:
        return VasaError(f"The take in {self.path} is damaged ({name}: {why}); generate it again.")

    def _incomplete(self, exc: FileNotFoundError) -> VasaError:
        name = Path(exc.filename).name if exc.filename else "a file"
        return VasaError(
            f"{self.path} is not a complete take ({name} is missing); generate it again."
        )
