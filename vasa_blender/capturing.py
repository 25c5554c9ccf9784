"""Capture: a movie strip or a video file -> a take folder holding the captured motion.

Like Generate (``generation``): ``plan`` reads the video's path from ``bpy`` on the main
thread and reserves a take folder; the job's worker runs ``core.capture`` (plain values,
no ``bpy``) and writes ``motion.npz`` and ``run.json``; ``finish``, on the main thread
again, offers the motion to Generate and Animate Character by setting their *Motion File*,
or, after a cancel or a bad video, removes the folder so nothing is left behind. A movie
strip's whole file is read (its trim in the sequencer is not applied).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from ..core.capture.capture import CaptureResult, capture_video, write_capture
from . import sources, takes
from .jobs import Job
from .sources import InputMissing


@dataclass
class Plan:
    take: str
    folder: Path
    video: Path
    source: str  # what the video came from: "strip:NAME" or "file:NAME"


def movie_strip(scene: bpy.types.Scene, name: str):
    """The chosen movie strip, or the scene's only movie strip when none is chosen."""
    return sources.strip_of_type(
        scene,
        name,
        "MOVIE",
        "Add a movie strip of a talking face to the sequencer, or choose a video file.",
        "The scene has several movie strips; choose the one to capture.",
    )


def video_source(context: bpy.types.Context) -> tuple[Path, str]:
    """The video to capture and what it came from, or InputMissing saying what to fix."""
    state = context.scene.talking_head.capture
    if state.kind == "FILE":
        if not state.file:
            raise InputMissing("Choose a video file of a talking face.")
        path = Path(bpy.path.abspath(state.file))
        if not path.is_file():
            raise InputMissing(f"The video file {path} does not exist; check the path.")
        return path, f"file:{path.name}"
    strip = movie_strip(context.scene, state.strip)
    path = Path(bpy.path.abspath(strip.filepath))
    if not strip.filepath or not path.is_file():
        raise InputMissing(
            f"The movie strip '{strip.name}' points to a missing file ({path}); fix its path."
        )
    return path, f"strip:{strip.name}"


def why_not(context: bpy.types.Context) -> str:
    """Empty when a capture can start now; else the sentence the panel shows."""
    try:
        video_source(context)
        takes.takes_root(context)
    except InputMissing as exc:
        return str(exc)
    return ""


def plan(context: bpy.types.Context) -> Plan:
    video, source = video_source(context)
    root = takes.takes_root(context)
    name, folder = takes.reserve_folder(context.scene.talking_head, root)
    return Plan(name, folder, video, source)


def make_job(p: Plan) -> Job:
    def work(progress, cancel) -> CaptureResult:
        result = capture_video(p.video, None, progress, cancel)
        write_capture(result, p.folder)
        return result

    return Job(f"Capturing {p.video.name} ({p.take})", work)


def abandon(p: Plan, job: Job) -> None:
    """Cut off (a file loaded, the extension disabled): drop the folder once the worker
    has stopped writing into it."""
    job.cancel()
    job.on_done(lambda: takes.discard_folder(p.folder))


def finish(scene: bpy.types.Scene, p: Plan, job: Job) -> tuple[str, str]:
    """Offer the captured motion to Generate and Animate Character: (report level, message)."""
    result: CaptureResult | None = job.result
    if job.error or result is None:
        takes.discard_folder(p.folder)
        if job.cancelled:
            return "WARNING", f"{p.take} capture cancelled; nothing was written."
        return "ERROR", job.error or f"{p.take} capture made no motion; nothing was written."
    motion = takes.portable(p.folder / "motion.npz")
    state = scene.talking_head
    state.motion_file = motion
    state.character.motion_file = motion
    message = (
        f"{p.take}: captured {result.track.n_frames} frames at {result.video.fps:g} fps from "
        f"{p.video.name}; Generate and Animate Character now use its motion (Motion File)"
    )
    return "INFO", message + "".join(f"; {note}" for note in result.notes)
