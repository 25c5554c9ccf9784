"""One take, end to end: portrait + voice -> frames, ``motion.npz`` and ``run.json``.

Inputs are all checked before the output folder is touched, so a bad input leaves nothing
behind. Frames stream to disk as they are rendered (memory stays bounded whatever the audio
length); cancelling stops after the current frame and leaves complete frames and a
``run.json`` that says where it stopped.
"""

from __future__ import annotations

import contextlib
import platform
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from .. import ENGINE_NAME, __version__
from ..audio import SAMPLE_RATE, compute_features, load_audio
from ..errors import OutputError, VasaError
from ..face.analyzer import FaceAnalyzer
from ..face.portrait import load_image
from ..motion.procedural import MotionSettings, generate_motion, validate
from ..render.warp import WarpRenderer
from ..runtime import sessions as runtime
from ..runtime.packs import open_pack, sha256_file
from .crop import FaceCrop
from .frames import (
    FRAME_FORMATS,
    FrameWriter,
    frame_pattern_printf,
    output_error,
    write_json,
)
from .png_rows import StillRowsPng

Progress = Callable[[float, str], None]
FRAMES_DIR = "frames"
CROP_DIR = "crop512"  # with output="both": the 512x512 face crops beside frames/
OUTPUTS = ("full", "crop512", "both")


@dataclass
class Settings:
    """Everything that shapes a take; recorded in ``run.json``."""

    fps: float = 25.0
    seed: int = 0
    motion_intensity: float = 1.0
    lipsync_strength: float = 1.0
    blink_rate_per_min: float = 17.0
    png_compression: int = 1
    pack: str | None = None  # model pack folder; None = the built-in pack
    provider: str = "auto"
    threads: int = 0
    overwrite: bool = False
    frame_format: str = "png"  # png, jpeg or exr (see frames_io.FRAME_FORMATS)
    # Motion controls (units, ranges and labels: core.motion_procedural.CONTROLS).
    lipsync_mode: str = "auto"  # auto | phonetic (English) | acoustic (any language)
    gaze_yaw: float = 0.0  # degrees, -30..30, > 0 looks to the viewer's right
    gaze_pitch: float = 0.0  # degrees, -20..20, > 0 looks up
    head_scale: float = 1.0  # head distance, ratio 0.5..2, > 1 = closer / larger
    emotion: str = "neutral"  # neutral | happy | sad | angry | surprised
    emotion_intensity: float = 1.0  # 0..1
    output: str = "full"  # full frames, "crop512" (VASA-1's 512x512 face crop) or "both"

    def motion(self) -> MotionSettings:
        return MotionSettings(
            self.seed,
            self.motion_intensity,
            self.lipsync_strength,
            self.blink_rate_per_min,
            self.lipsync_mode,
            self.gaze_yaw,
            self.gaze_pitch,
            self.head_scale,
            self.emotion,
            self.emotion_intensity,
        )


@dataclass
class TakeResult:
    out_dir: Path
    status: str  # complete, cancelled
    n_frames: int
    frames_written: int
    provider: str
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def frames_dir(self) -> Path:
        return self.out_dir / FRAMES_DIR


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def prepare_output(out_dir: Path, overwrite: bool) -> Path:
    """Create the take folder; refuse to mix with another take unless told to replace it."""
    frames = out_dir / FRAMES_DIR
    if (out_dir / "run.json").exists() or (frames.is_dir() and any(frames.iterdir())):
        if not overwrite:
            raise OutputError(
                f"{out_dir} already holds a take; choose a new folder or pass "
                "--overwrite to replace it."
            )
        shutil.rmtree(frames, ignore_errors=True)
        for name in ("run.json", "motion.npz"):
            (out_dir / name).unlink(missing_ok=True)
    try:
        frames.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise output_error(out_dir / FRAMES_DIR, exc) from exc
    return frames


def versions() -> dict[str, str]:
    return {
        "engine": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": runtime.onnxruntime_version(),
        "opencv": cv2.__version__,
    }


def generate(
    image: str | Path,
    audio: str | Path,
    out_dir: str | Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
) -> TakeResult:
    """Render one take into ``out_dir`` (``frames/``, ``motion.npz``, ``run.json``)."""
    settings = settings or Settings()
    if not (settings.fps > 0 and settings.fps <= 240):
        raise VasaError(f"Frame rate {settings.fps} is out of range; use 1 to 240 fps.")
    validate(settings.motion())
    if settings.frame_format not in FRAME_FORMATS:
        raise VasaError(
            f"Frame format {settings.frame_format!r} is not known; use one of "
            f"{', '.join(FRAME_FORMATS)}."
        )
    if settings.output not in OUTPUTS:
        raise VasaError(
            f"Output {settings.output!r} is not known; use one of {', '.join(OUTPUTS)}."
        )
    report = progress or (lambda fraction, message: None)
    image_path, audio_path, out_dir = Path(image), Path(audio), Path(out_dir)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    timings: dict[str, float] = {}
    t0 = clock = time.perf_counter()

    def lap(name: str) -> bool:
        """Time a stage; True when a cancel came in during it (checked between stages, so
        Esc during analysis stops before anything is written)."""
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 4)
        clock = now
        return _is_cancelled(cancel)

    def stopped() -> TakeResult:
        report(1.0, "Cancelled")
        return TakeResult(out_dir, "cancelled", 0, 0, rt.provider_summary(), timings)

    rt = runtime.Runtime(runtime.RuntimeConfig(settings.provider, settings.threads))
    report(0.0, "Reading inputs")
    pixels = load_image(image_path)
    samples = load_audio(audio_path)
    if lap("load"):
        return stopped()
    pack = open_pack(settings.pack, runtime=rt)
    face = FaceAnalyzer(pack).analyze(pixels, image_path.name)
    if lap("face"):
        return stopped()
    report(0.03, "Analysing the voice")
    features = compute_features(samples, settings.fps)
    if lap("audio_features"):
        return stopped()
    track = generate_motion(
        features,
        settings.motion(),
        samples,
        progress=lambda f: report(0.03 + 0.02 * f, "Recognising phones"),
    )
    if lap("motion"):
        return stopped()
    renderer = WarpRenderer(pixels, face, rt)
    if lap("renderer_setup"):
        return stopped()

    crop = FaceCrop(renderer.deformer, face.image_size, rt) if settings.output != "full" else None
    frames_dir = prepare_output(out_dir, settings.overwrite)
    crop_dir = out_dir / CROP_DIR if settings.output == "both" else None
    if crop_dir is not None:  # crops beside the full frames
        shutil.rmtree(crop_dir, ignore_errors=True)
        try:
            crop_dir.mkdir(parents=True)
        except OSError as exc:
            raise output_error(crop_dir, exc) from exc
    track.meta |= {"image": str(image_path), "audio": str(audio_path)}
    track.save(out_dir / "motion.npz")
    record = {
        "engine": {"name": ENGINE_NAME, "version": __version__},
        "status": "running",
        "inputs": {
            "image": {
                "path": str(image_path.resolve()),
                "sha256": sha256_file(image_path),
                "size": list(face.image_size),
            },
            "audio": {
                "path": str(audio_path.resolve()),
                "sha256": sha256_file(audio_path),
                "duration_s": round(len(samples) / SAMPLE_RATE, 4),
            },
        },
        "settings": asdict(settings),
        "seed": settings.seed,
        "fps": settings.fps,
        "n_frames": track.n_frames,
        "frames": {
            "folder": FRAMES_DIR,
            "first": 1,
            "pattern": frame_pattern_printf(settings.frame_format),
        },
        "face": face.to_dict(),
        "motion": {key: track.meta[key] for key in ("generator", "lipsync_mode", "notes")},
        **(
            {
                "crop512": {
                    "folder": str(crop_dir.name) if crop_dir else FRAMES_DIR,
                    **crop.describe(),
                }
            }
            if crop
            else {}
        ),
        "pack": pack.describe(),
        "versions": versions(),
        "started_at": started,
    }
    write_json(out_dir / "run.json", record)
    provenance = {
        "Software": f"{ENGINE_NAME} {__version__}",
        "Description": f"Synthetic talking-head video frame generated by {ENGINE_NAME} "
        f"{__version__} from {image_path.name} and {audio_path.name}.",
    }
    n = track.n_frames
    status, error = "complete", None
    encoder = None
    if settings.frame_format == "png" and settings.output != "crop512":
        # the rows outside the head never change
        r = renderer.region
        encoder = StillRowsPng(pixels, (r.y0, r.y1), provenance, settings.png_compression).encode
    writer = FrameWriter(
        frames_dir, provenance, settings.png_compression, fmt=settings.frame_format, encoder=encoder
    )
    crop_writer = (
        FrameWriter(crop_dir, provenance, settings.png_compression, fmt=settings.frame_format)
        if crop_dir
        else None
    )
    try:
        with writer, crop_writer or contextlib.nullcontext():
            for i in range(n):
                if _is_cancelled(cancel):
                    status = "cancelled"
                    break
                frame = renderer.render(track.frame(i))
                if crop_writer is not None:
                    crop_writer.put(i + 1, crop(frame))
                writer.put(i + 1, crop(frame) if settings.output == "crop512" else frame)
                if i % 5 == 0 or i == n - 1:
                    report(0.05 + 0.95 * (i + 1) / n, f"Frame {i + 1} of {n}")
    except KeyboardInterrupt:
        status = "cancelled"
    except VasaError as exc:
        status, error = "failed", str(exc)
        raise
    except BaseException as exc:  # a bug or a system error: the take is not complete either
        status, error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        lap("render")
        timings["total"] = round(time.perf_counter() - t0, 4)
        record |= {
            "status": status,
            "frames_written": writer.written,
            "provider": rt.provider_summary(),
            "providers": rt.report(),
            "timings_s": timings,
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        if status == "cancelled":
            record["stopped_at_frame"] = writer.written
        if error:
            record["error"] = error
        try:
            write_json(out_dir / "run.json", record)
        except OutputError:
            if error is None:
                raise
    report(1.0, "Done" if status == "complete" else "Cancelled")
    return TakeResult(
        out_dir,
        status,
        n,
        writer.written,
        rt.provider_summary(),
        timings,
        list(face.notes) + list(track.meta.get("notes", [])),
    )
