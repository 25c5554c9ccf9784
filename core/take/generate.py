"""One take, end to end: portrait + voice -> frames, ``motion.npz`` and ``run.json``.

The stages come from the model pack's profile (``runtime.factory.open_stages``). Inputs are
all checked before the output folder is touched, so a bad input leaves nothing behind.
Frames stream to disk as they are rendered (memory stays bounded whatever the audio
length); cancelling stops after the current frame and leaves complete frames and a
``run.json`` that says where it stopped.
"""

from __future__ import annotations

import platform
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from .. import ENGINE_NAME, __version__
from ..audio import SAMPLE_RATE, compute_features, read_audio
from ..errors import OutputError, VasaError
from ..face.portrait import read_portrait
from ..marks.apply import marked, watermark_payload
from ..marks.frame_credentials import frame_signer
from ..motion.track import MotionTrack
from ..runtime import sessions
from ..runtime.factory import Stages, open_stages
from ..runtime.packs import sha256_file
from ..stages import PortraitConditioned
from . import outputs
from .claim import Claim, describe
from .crop import FaceCrop
from .loop import Cancel, FrameTarget, is_cancelled, render_frames
from .record import FRAMES_DIR, FramesInfo, RunRecord, TakeFolder
from .settings import Settings
from .stream import stream_writer

Progress = Callable[[float, str], None]


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


def versions() -> dict[str, str]:
    return {
        "engine": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "onnxruntime": sessions.onnxruntime_version(),
        "opencv": cv2.__version__,
    }


def engine_info() -> dict[str, str]:
    return {"name": ENGINE_NAME, "version": __version__}


def provenance(description: str) -> dict[str, str]:
    """Text for every frame file: what made it, and that it is synthetic."""
    return {"Software": f"{ENGINE_NAME} {__version__}", "Description": description}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load_motion(path: str | Path) -> MotionTrack:
    """A ``motion.npz`` to render, or one sentence saying why it cannot be."""
    path = Path(path)
    if not path.is_file():
        raise VasaError(f"The motion file {path} does not exist; check the path.")
    try:
        track = MotionTrack.load(path)
    except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise VasaError(
            f"{path.name} cannot be read as a MotionTrack (motion.npz); give one written by "
            "generate or capture."
        ) from exc
    if track.n_frames == 0 or not 0 < track.fps <= 1000 or not np.isfinite(track.data).all():
        raise VasaError(
            f"{path.name} holds no usable motion ({track.n_frames} frames at {track.fps:g} fps,"
            " or values that are not numbers); capture or generate it again."
        )
    return track


def generate(
    image: str | Path,
    audio: str | Path | None,
    out_dir: str | Path,
    settings: Settings | None = None,
    progress: Progress | None = None,
    cancel: Cancel = None,
    stages: Stages | None = None,
    claim_folder: bool = True,
    motion: str | Path | None = None,
    stream: BinaryIO | None = None,
    credentials_folder: str | Path | None = None,
) -> TakeResult:
    """Render one take into ``out_dir`` (``frames/``, ``motion.npz``, ``run.json``).

    ``stages`` already opened for ``settings.pack`` (a batch opens them once per worker)
    saves loading the models again; by default they are opened here. ``stream`` also
    gets every frame as raw RGB as soon as it is rendered (``stream``). The take folder is
    claimed (``claim``) while the take is made, so a second process, ``overwrite`` or not,
    is refused with a sentence naming the first; ``claim_folder=False`` when the caller holds
    the claim (the batch runner).

    ``motion``: a ``motion.npz`` (a captured or edited track) to render instead of motion
    from the voice; its frame rate is the take's, and ``audio`` may then be None (a silent
    take)."""
    settings = settings or Settings()
    given = load_motion(motion) if motion is not None else None
    if given is not None:
        settings.fps = given.fps
    elif audio is None:
        raise VasaError("A take needs a voice (--audio) or a motion file (--motion).")
    settings.validate()
    report = progress or (lambda fraction, message: None)
    image_path = Path(image)
    audio_path = Path(audio) if audio is not None else None
    take = TakeFolder(out_dir)
    started = now()
    timings: dict[str, float] = {}
    t0 = clock = time.perf_counter()

    def lap(name: str) -> bool:
        """Time a stage; True when a cancel came in during it (checked between stages, so
        Esc during analysis stops before anything is written)."""
        nonlocal clock
        stamp = time.perf_counter()
        timings[name] = round(stamp - clock, 4)
        clock = stamp
        return is_cancelled(cancel)

    runtime = (
        stages.runtime
        if stages is not None
        else sessions.Runtime(sessions.RuntimeConfig(settings.provider, settings.threads))
    )

    def stopped() -> TakeResult:
        report(1.0, "Cancelled")
        return TakeResult(take.path, "cancelled", 0, 0, runtime.provider_summary(), timings)

    report(0.0, "Reading inputs")
    portrait = read_portrait(image_path)  # upright: its EXIF orientation applied
    pixels = portrait.pixels
    # A pipe is read once: its notes and sha256 come with it.
    voice = read_audio(audio_path) if audio_path is not None else None
    if lap("load"):
        return stopped()
    stages = stages or open_stages(settings.pack, runtime=runtime)
    face = stages.face.analyze(pixels, image_path.name)
    face.notes[:0] = portrait.notes  # a photo turned upright: run.json face.notes
    if lap("face"):
        return stopped()
    if given is not None:
        track = given
    else:
        assert voice is not None
        report(0.03, "Analysing the voice")
        features = compute_features(voice.samples, settings.fps)
        if lap("audio_features"):
            return stopped()
        if isinstance(stages.motion, PortraitConditioned):
            stages.motion.bind_portrait(pixels, face)  # e.g. Ditto: motion depends on the photo
        track = stages.motion.generate(
            features,
            settings.motion,
            voice.samples,
            progress=lambda f: report(0.03 + 0.02 * f, "Recognising phones"),
        )
        if lap("motion"):
            return stopped()
    renderer = stages.renderer(pixels, face)
    if lap("renderer_setup"):
        return stopped()
    voice_notes = voice.notes if voice is not None else []
    track.meta["notes"] = [*voice_notes, *track.meta.get("notes", [])]  # e.g. truncated audio

    crop = FaceCrop(face, runtime) if settings.output != "full" else None
    claim = Claim(take.path) if claim_folder else None
    if claim is not None and not claim.acquire():
        holder = claim.holder()
        raise OutputError(
            f"{take.path} is being made by {describe(holder) if holder else 'another process'};"
            " wait for it to finish or choose another folder."
        )
    try:
        take.prepare(settings.overwrite, outputs.folders(settings.output))
        track.meta |= {"image": str(image_path), "audio": audio_path and str(audio_path)}
        inputs: dict[str, dict] = {
            "image": {
                "path": str(image_path.resolve()),
                "sha256": sha256_file(image_path),
                "size": list(face.image_size),
            }
        }
        if voice is not None and audio_path is not None:
            inputs["audio"] = {
                "path": str(audio_path.resolve()),
                "sha256": voice.sha256 or sha256_file(audio_path),
                "duration_s": round(len(voice.samples) / SAMPLE_RATE, 4),
            }
        if motion is not None:
            inputs["motion"] = {
                "path": str(Path(motion).resolve()),
                "sha256": sha256_file(Path(motion)),
            }
        take.save_track(track)
        record = RunRecord(
            engine=engine_info(),
            status="running",
            fps=settings.fps,
            n_frames=track.n_frames,
            settings=settings,
            frames=FramesInfo(FRAMES_DIR, 1, settings.frame_format),
            inputs=inputs,
            seed=settings.seed,
            face=face.to_dict(),
            motion={key: track.meta.get(key) for key in ("generator", "lipsync_mode", "notes")},
            crop512=(
                {"folder": outputs.folders(settings.output)[-1], **crop.describe()}
                if crop
                else None
            ),
            pack=stages.pack.describe(),
            versions=versions(),
            started_at=started,
        )
        payload = watermark_payload(record) if settings.watermark else None
        # Frames signed as they are written, with the facts the MP4's manifest names.
        signer = frame_signer(
            record.to_json(), settings.frame_format, settings.credentials, credentials_folder
        )
        take.write_record(record)
        text = provenance(
            f"Synthetic talking-head video frame generated by {ENGINE_NAME} {__version__} from "
            f"{image_path.name} and "
            f"{Path(motion).name if motion is not None else audio_path and audio_path.name}."
        )
        n = track.n_frames
        renderer, still = marked(renderer, pixels, face, settings.label, payload)
        targets = outputs.open_targets(take.path, settings, renderer, still, crop, text, signer)
        main = targets[0].writer
        if stream is not None:  # what frames/ gets, raw, as it is rendered
            targets.append(FrameTarget(stream_writer(stream), targets[0].transform))

        def on_frame(k: int, i: int) -> None:
            if i % 5 == 0 or i == n - 1:
                report(0.05 + 0.95 * (i + 1) / n, f"Frame {i + 1} of {n}")

        status, error = "failed", None
        try:
            status = render_frames(renderer, track, range(n), targets, cancel, on_frame)
        except VasaError as exc:
            error = str(exc)
            raise
        except BaseException as exc:  # a bug or a system error: the take is not complete either
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            lap("render")
            timings["total"] = round(time.perf_counter() - t0, 4)
            if main.first_written_at is not None:  # what a user waits before watching
                timings["first_frame"] = round(main.first_written_at - t0, 4)
            record.status = status
            record.frames_written = main.written
            record.provider = runtime.provider_summary()
            record.providers = runtime.report()
            record.timings_s = timings
            record.finished_at = now()
            if status == "cancelled":
                record.stopped_at_frame = main.written
            record.error = error
            try:
                take.write_record(record, last=True)
            except OutputError:
                if error is None:
                    raise
    finally:
        if claim is not None:
            claim.release()
    report(1.0, "Done" if status == "complete" else "Cancelled")
    return TakeResult(
        take.path,
        status,
        n,
        main.written,
        runtime.provider_summary(),
        timings,
        list(face.notes) + list(track.meta.get("notes", [])),
    )
