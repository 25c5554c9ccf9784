"""Re-render a take from an edited MotionTrack, touching only the frames whose motion changed.

This is what Blender's *Re-render* calls after an animator edits or retimes curves. The
changed frames are rendered into a staging folder first and moved over the take's frames
only when all of them are done, so a cancel or a failure leaves the take exactly as it was.
The stages come from the take's own model pack, as ``generate`` made it.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import OutputError, VasaError
from ..face.portrait import load_image
from ..marks.apply import marked, watermark_payload
from ..marks.frame_credentials import frame_signer
from ..motion.track import MotionTrack
from ..runtime.factory import open_stages
from ..runtime.packs import sha256_file
from . import outputs
from .claim import Claim, describe
from .crop import FaceCrop
from .frames import frame_name, output_error
from .generate import Progress, now, provenance
from .loop import Cancel, render_frames
from .record import FRAMES_DIR, TakeFolder

# Channel values closer than this count as unchanged (float32 curves read back from Blender).
TOLERANCE = 1e-4


@dataclass
class RerenderResult:
    out_dir: Path
    status: str  # complete, cancelled, unchanged
    changed: list[int] = field(default_factory=list)  # 0-based frame indices re-rendered
    timings: dict[str, float] = field(default_factory=dict)


def changed_frames(old: MotionTrack, new: MotionTrack, tolerance: float = TOLERANCE) -> list[int]:
    """0-based frames where any channel of ``new`` differs from ``old``.

    Channels are matched by name; a channel only one of them has counts as changed where it
    is not at the other's neutral value (missing channels read as 0, head_scale as 1).
    """
    if new.n_frames != old.n_frames:
        raise VasaError(
            f"The edited motion has {new.n_frames} frames but the take has "
            f"{old.n_frames}; keep the take's frame range."
        )
    names = sorted(set(old.channels) | set(new.channels))
    neutral = MotionTrack.neutral(1, old.fps, tuple(names)).data[0]

    def columns(track: MotionTrack) -> np.ndarray:
        out = np.tile(neutral, (track.n_frames, 1))
        for j, name in enumerate(names):
            if name in track.channels:
                out[:, j] = track[name]
        return out

    diff = np.abs(columns(new) - columns(old)).max(axis=1)
    return [int(i) for i in np.flatnonzero(diff > tolerance)]


def rerender(
    out_dir: str | Path,
    track: MotionTrack,
    progress: Progress | None = None,
    cancel: Cancel = None,
    credentials_folder: str | Path | None = None,
) -> RerenderResult:
    """Render the frames of the take in ``out_dir`` whose motion differs from ``track``.
    A take made with Content Credentials gets them in the frames rewritten (PNG and JPEG,
    as they are written), with its own facts; ``credentials_folder``: the
    signing key's folder, as for ``generate``."""
    take = TakeFolder(out_dir)
    report = progress or (lambda fraction, message: None)
    record, old = take.read()
    if record.status != "complete":
        raise VasaError(
            f"The take in {take.path} did not finish (status {record.status!r}); generate it "
            "again before re-rendering."
        )
    changed = changed_frames(old, track)
    if not changed:
        report(1.0, "No frame changed")
        return RerenderResult(take.path, "unchanged")

    t0 = time.perf_counter()
    settings = record.settings
    image_info = record.inputs.get("image", {})
    image_path = Path(image_info.get("path", ""))
    if not image_path.is_file():
        raise VasaError(
            f"The portrait {image_path} of this take is gone; put it back or generate a new take."
        )
    if sha256_file(image_path) != image_info.get("sha256"):
        raise VasaError(
            f"The portrait {image_path.name} changed since the take was made; "
            "generate a new take instead of re-rendering."
        )
    report(0.0, "Reading the portrait")
    stages = open_stages(settings.pack, provider=settings.provider, threads=settings.threads)
    pixels = load_image(image_path)
    size = [int(pixels.shape[1]), int(pixels.shape[0])]
    if image_info.get("size") not in (None, size):
        raise VasaError(
            f"The take in {take.path} was made from {image_path.name} at "
            f"{image_info['size'][0]}x{image_info['size'][1]} pixels but it reads as "
            f"{size[0]}x{size[1]} now (its EXIF orientation is applied since); generate a "
            "new take instead of re-rendering."
        )
    face = stages.face.analyze(pixels, image_path.name)
    renderer = stages.renderer(pixels, face)
    crop = FaceCrop(face, stages.runtime) if settings.output != "full" else None
    claim = Claim(take.path)
    if not claim.acquire():
        holder = claim.holder()
        raise OutputError(
            f"{take.path} is being written by {describe(holder) if holder else 'another process'}"
            "; wait for it to finish, then re-render."
        )
    try:
        folders = outputs.folders(settings.output)
        shutil.rmtree(take.staging, ignore_errors=True)
        try:
            for folder in folders:
                (take.staging / folder).mkdir(parents=True)
        except OSError as exc:
            raise output_error(take.staging / "x", exc) from exc

        text = provenance("Synthetic talking-head video frame (re-rendered from edited motion).")
        # Re-marked only when the take was marked (a take made before watermarks was not).
        marked_take = settings.watermark and record.extra.get("watermark")
        payload = watermark_payload(record) if marked_take else None
        renderer, still = marked(renderer, pixels, face, settings.label, payload)
        signer = frame_signer(
            record.to_json(), settings.frame_format, settings.credentials, credentials_folder
        )
        targets = outputs.open_targets(take.staging, settings, renderer, still, crop, text, signer)

        def on_frame(k: int, i: int) -> None:
            report(
                0.05 + 0.9 * (k + 1) / len(changed),
                f"Frame {i + 1} ({k + 1} of {len(changed)} changed)",
            )

        try:
            status = render_frames(renderer, track, changed, targets, cancel, on_frame)
        except BaseException:
            shutil.rmtree(take.staging, ignore_errors=True)
            raise
        if status == "cancelled":
            shutil.rmtree(take.staging, ignore_errors=True)
            report(1.0, "Cancelled; the take is unchanged")
            return RerenderResult(take.path, "cancelled")

        # Every changed frame is on disk: swap them in, then record the new motion.
        fmt = settings.frame_format
        try:
            for folder in folders:
                for i in changed:
                    name = frame_name(i + 1, fmt)
                    (take.staging / folder / name).replace(take.path / folder / name)
            track.meta = dict(old.meta) | {"edited": True}
            take.save_track(track)
            record.rerenders.append(
                {
                    "at": now(),
                    "frames": len(changed),
                    "first": changed[0] + 1,
                    "last": changed[-1] + 1,
                    "seconds": round(time.perf_counter() - t0, 3),
                }
            )
            take.write_record(record)
        except OSError as exc:
            raise output_error(take.path / FRAMES_DIR / "x", exc) from exc
        finally:
            shutil.rmtree(take.staging, ignore_errors=True)
    finally:
        claim.release()
    report(1.0, f"Re-rendered {len(changed)} frames")
    return RerenderResult(
        take.path, "complete", changed, {"total": round(time.perf_counter() - t0, 4)}
    )
