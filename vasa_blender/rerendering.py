"""Re-render: read the take's curves back into a MotionTrack and render what changed.

The curves are evaluated on the main thread (that touches ``bpy``); the worker renders
only the frames whose motion differs from the take's ``motion.npz`` and swaps them in when
all are done, so a cancelled re-render leaves the take's frames as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.errors import VasaError
from ..core.motion.track import MotionTrack
from ..core.take.record import TakeFolder
from ..core.take.rerender import changed_frames, rerender
from . import compat, curves, generation, plane, takes, vse
from .jobs import Job
from .sources import InputMissing


@dataclass
class RerenderPlan:
    take: str
    folder: Path
    track: MotionTrack
    changed: int
    notes: list[str]
    indices: list[int]  # 0-based frames that will be rendered again, in order
    credentials: Path | None = None  # the local signing key's folder, as Generate's


def plan(take) -> RerenderPlan:
    """Evaluate the take's controller curves; raises InputMissing when it cannot."""
    folder = takes.absolute(take.folder)
    if take.controller is None:
        raise InputMissing(f"The controller of {take.name} is gone; generate a new take.")
    try:
        stored = TakeFolder(folder).read()[1]
    except VasaError as exc:
        raise InputMissing(str(exc)) from exc
    track, notes = curves.read_track(take.controller, stored, take.frame_start)
    changed = changed_frames(stored, track)
    return RerenderPlan(
        take.name, folder, track, len(changed), notes, changed, generation.credentials_folder()
    )


def make_job(p: RerenderPlan) -> Job:
    return Job(
        f"Re-rendering {p.take}",
        lambda progress, cancel: rerender(p.folder, p.track, progress, cancel, p.credentials),
    )


def refresh(scene: bpy.types.Scene, take) -> None:
    """Show the new frames: drop cached images of the strip and the plane's texture."""
    folder = TakeFolder(takes.absolute(take.folder))
    plane.write_hold_frame(folder.frames_dir, folder.read_record().frames.format)
    strip = compat.find_strip(scene, take.strip)
    if strip is not None:
        vse.refresh_strip(strip)
    plane.reload(take.take_image)


def finish(scene: bpy.types.Scene, p: RerenderPlan, job: Job) -> tuple[str, str]:
    take = scene.talking_head.takes.get(p.take)
    result = job.result
    if job.error:
        return "ERROR", job.error
    if result is None or result.status == "cancelled":
        return "WARNING", f"Re-render of {p.take} cancelled; its frames are unchanged."
    if result.status == "unchanged":
        return "INFO", f"{p.take}: no curve changed, nothing to render."
    if take is not None:
        refresh(scene, take)
    notes = "; ".join(p.notes)
    message = f"{p.take}: re-rendered {len(result.changed)} frames"
    return "INFO", message + (f"; {notes}" if notes else "")
