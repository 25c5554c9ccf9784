"""Re-render a take from an edited MotionTrack, touching only the frames whose motion changed.

This is what Blender's *Re-render* calls after an animator edits or retimes curves. The
changed frames are rendered into a staging folder first and moved over the take's frames
only when all of them are done, so a cancel or a failure leaves the take exactly as it was.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from ..errors import VasaError
from ..face.analyzer import FaceAnalyzer
from ..face.portrait import load_image
from ..motion.track import MotionTrack
from ..render.warp import WarpRenderer
from ..runtime import sessions as runtime
from ..runtime.packs import open_pack, sha256_file
from .crop import FaceCrop
from .frames import FrameWriter, frame_name, output_error, write_json
from .generate import CROP_DIR, FRAMES_DIR, Progress, _is_cancelled

STAGING_DIR = ".rerender"
# Channel values closer than this count as unchanged (float32 curves read back from Blender).
TOLERANCE = 1e-4


@dataclass
class RerenderResult:
    out_dir: Path
    status: str  # complete, cancelled, unchanged
    changed: list[int] = field(default_factory=list)  # 0-based frame indices re-rendered
    timings: dict[str, float] = field(default_factory=dict)


def read_take(out_dir: str | Path) -> tuple[dict, MotionTrack]:
    """The take's ``run.json`` and its MotionTrack, with clear errors when they are missing."""
    out_dir = Path(out_dir)
    try:
        record = json.loads((out_dir / "run.json").read_text())
        track = MotionTrack.load(out_dir / "motion.npz")
    except FileNotFoundError as exc:
        raise VasaError(
            f"{out_dir} is not a complete take ({Path(exc.filename).name} is "
            "missing); generate it again."
        ) from exc
    except (ValueError, json.JSONDecodeError) as exc:
        raise VasaError(f"The take in {out_dir} is damaged ({exc}); generate it again.") from exc
    return record, track


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
    cancel: threading.Event | Callable[[], bool] | None = None,
) -> RerenderResult:
    """Render the frames of the take in ``out_dir`` whose motion differs from ``track``."""
    out_dir = Path(out_dir)
    report = progress or (lambda fraction, message: None)
    record, old = read_take(out_dir)
    if record.get("status") != "complete":
        raise VasaError(
            f"The take in {out_dir} did not finish (status "
            f"{record.get('status')!r}); generate it again before re-rendering."
        )
    changed = changed_frames(old, track)
    if not changed:
        report(1.0, "No frame changed")
        return RerenderResult(out_dir, "unchanged")

    t0 = time.perf_counter()
    settings = record.get("settings", {})
    image_info = record["inputs"]["image"]
    image_path = Path(image_info["path"])
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
    rt = runtime.Runtime(
        runtime.RuntimeConfig(settings.get("provider", "auto"), settings.get("threads", 0))
    )
    pixels = load_image(image_path)
    face = FaceAnalyzer(open_pack(settings.get("pack"), runtime=rt)).analyze(
        pixels, image_path.name
    )
    renderer = WarpRenderer(pixels, face, rt)
    fmt = settings.get("frame_format", "png")
    output = settings.get("output", "full")
    crop = FaceCrop(renderer.deformer, face.image_size, rt) if output != "full" else None
    # Folder -> what goes in it, as the take was made (see pipeline.generate).
    targets = {FRAMES_DIR: crop if output == "crop512" else None}
    if output == "both":
        targets[CROP_DIR] = crop
    staging = out_dir / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    try:
        for folder in targets:
            (staging / folder).mkdir(parents=True)
    except OSError as exc:
        raise output_error(staging / "x", exc) from exc

    provenance = {
        "Software": f"{record['engine']['name']} {record['engine']['version']}",
        "Description": "Synthetic talking-head video frame (re-rendered from edited motion).",
    }
    writers = {
        folder: FrameWriter(
            staging / folder, provenance, settings.get("png_compression", 1), fmt=fmt
        )
        for folder in targets
    }
    status = "complete"
    try:
        with contextlib.ExitStack() as stack:
            for writer in writers.values():
                stack.enter_context(writer)
            for k, i in enumerate(changed):
                if _is_cancelled(cancel):
                    status = "cancelled"
                    break
                frame = renderer.render(track.frame(i))
                for folder, transform in targets.items():
                    writers[folder].put(i + 1, transform(frame) if transform else frame)
                report(
                    0.05 + 0.9 * (k + 1) / len(changed),
                    f"Frame {i + 1} ({k + 1} of {len(changed)} changed)",
                )
    except KeyboardInterrupt:
        status = "cancelled"
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if status == "cancelled":
        shutil.rmtree(staging, ignore_errors=True)
        report(1.0, "Cancelled; the take is unchanged")
        return RerenderResult(out_dir, "cancelled")

    # Every changed frame is on disk: swap them in, then record the new motion.
    try:
        for folder in targets:
            for i in changed:
                name = frame_name(i + 1, fmt)
                (staging / folder / name).replace(out_dir / folder / name)
        track.meta = dict(old.meta) | {"edited": True}
        track.save(out_dir / "motion.npz")
        record.setdefault("rerenders", []).append(
            {
                "at": datetime.now(UTC).isoformat(timespec="seconds"),
                "frames": len(changed),
                "first": changed[0] + 1,
                "last": changed[-1] + 1,
                "seconds": round(time.perf_counter() - t0, 3),
            }
        )
        write_json(out_dir / "run.json", record)
    except OSError as exc:
        raise output_error(out_dir / FRAMES_DIR / "x", exc) from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    report(1.0, f"Re-rendered {len(changed)} frames")
    return RerenderResult(
        out_dir, "complete", changed, {"total": round(time.perf_counter() - t0, 4)}
    )
