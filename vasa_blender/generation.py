"""Generate: plan a take on the main thread, run the engine as a Job, then build the scene.

``plan`` reads everything it needs from ``bpy`` up front (paths, frames, settings) so the
job's worker only sees plain values; ``finish`` runs on the main thread again and creates
the strip, the controller and its curves, the plane's texture and the take record, or,
after a cancel or an error, removes the take's folder and leaves the scene as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import bpy

from ..core.character.timing import motion_at_rate
from ..core.motion.settings import MotionSettings
from ..core.runtime import sessions
from ..core.take.generate import generate
from ..core.take.record import TakeFolder
from ..core.take.settings import Settings
from . import curves, plane, sources, takes, upright, vse
from .jobs import Job
from .preferences import PACKAGE, preferences
from .props import CONTROL_FIELDS


@dataclass
class Plan:
    take: str
    folder: Path
    inputs: sources.Inputs
    settings: Settings
    motion: Path | None = None  # a motion file (a capture) rendered instead of the voice's
    credentials: Path | None = None  # the local signing key's folder (extension_path_user)


@lru_cache(maxsize=8)
def expected_provider(provider: str) -> str:
    """What a take will run on with this provider setting, before any session exists."""
    try:
        return sessions.Runtime(sessions.RuntimeConfig(provider)).provider_summary()
    except Exception as exc:  # noqa: BLE001 - shown in the panel, never raised from draw()
        return str(exc)


def scene_fps(scene: bpy.types.Scene) -> float:
    return scene.render.fps / scene.render.fps_base


def settings_for(context: bpy.types.Context) -> Settings:
    """Engine settings from the scene's controls and the extension's preferences."""
    state = context.scene.talking_head
    prefs = preferences(context)
    values = {name: getattr(state, name) for name in CONTROL_FIELDS}
    pack = state.pack_path or None
    return Settings(
        fps=scene_fps(context.scene),
        motion=MotionSettings(**values),
        pack=pack,
        provider=prefs.provider,
        threads=prefs.threads,
        frame_format=prefs.frame_format,
        credentials=state.credentials,
        watermark=state.watermark,
        label=state.label,
    )


def plan(context: bpy.types.Context) -> Plan:
    """Resolve inputs and reserve a new take folder; raises sources.InputMissing."""
    inputs = sources.resolve(context)
    motion = sources.motion_file(context.scene.talking_head)
    settings = settings_for(context)
    root = takes.takes_root(context)
    name, folder = takes.reserve_folder(context.scene.talking_head, root)
    return Plan(name, folder, inputs, settings, motion, credentials_folder())


def credentials_folder() -> Path | None:
    """The extension's own user folder for the locally made signing key (Blender rule: never
    the extension folder); None where Blender has none for it (a legacy add-on install),
    and the engine's default folder is used. Main thread only."""
    try:
        return Path(bpy.utils.extension_path_user(PACKAGE, path="credentials", create=True))
    except (ValueError, OSError):
        return None


def _materialise(folder: Path, name: str, data: bytes) -> Path:
    """Write a packed image or sound into the take so the engine can read it."""
    target = folder / "inputs" / (Path(name).name or "input")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def make_job(p: Plan) -> Job:
    inputs = p.inputs

    def work(progress, cancel):
        image = inputs.image_path or _materialise(
            p.folder, inputs.image_name + ".png", inputs.image_bytes
        )
        audio = inputs.audio_path or (
            _materialise(p.folder, inputs.audio_name, inputs.audio_bytes)
            if inputs.audio_bytes is not None
            else None  # a motion file without a sound strip: a silent take
        )
        motion = p.motion and motion_at_rate(p.motion, p.settings.fps, p.folder / "inputs")
        return generate(
            image,
            audio,
            p.folder,
            p.settings,
            progress,
            cancel,
            motion=motion,
            credentials_folder=p.credentials,
        )

    return Job(f"Generating {p.take}", work)


def abandon(p: Plan, job: Job) -> None:
    """The job was cut off (a file was loaded, the extension disabled): stop it and drop its
    folder once the worker has really stopped writing into it (never blocks the UI)."""
    job.cancel()
    job.on_done(lambda: takes.discard_folder(p.folder))


def finish(scene: bpy.types.Scene, p: Plan, job: Job) -> tuple[str, str]:
    """Build the scene from a finished job: returns (report level, message).

    All or nothing: every input is looked up again and checked before anything is created,
    and if building fails half-way, what was made is removed with the take's folder.
    """
    result = job.result
    if job.error or result is None or result.status != "complete":
        takes.discard_folder(p.folder)
        if job.error:
            return "ERROR", job.error
        return "WARNING", f"{p.take} cancelled; nothing was added and earlier takes are intact."
    inputs = p.inputs
    node = None
    if inputs.plane:
        node = sources.find_texture_node(inputs.plane, inputs.material, inputs.texture_node)
        if node is None:
            takes.discard_folder(p.folder)
            return "ERROR", (
                f"The image plane '{inputs.plane}' or its material changed while "
                f"{p.take} was made; nothing was added, generate again."
            )
    made: list = []
    try:
        return _build(scene, p, result, node, made)
    except Exception as exc:  # noqa: BLE001 - roll back, then say it in one sentence
        import traceback

        traceback.print_exc()
        _roll_back(scene, made)
        takes.discard_folder(p.folder)
        return "ERROR", (
            f"{p.take} could not be added to the scene ({type(exc).__name__}: "
            f"{exc}); nothing was added, earlier takes are intact."
        )


def _roll_back(scene: bpy.types.Scene, made: list) -> None:
    for kind, item in reversed(made):
        if kind == "strip":
            vse.remove_strip(scene, item)
        elif kind == "object":
            bpy.data.objects.remove(item)
        elif kind == "image":
            bpy.data.images.remove(item)
        elif kind == "texture":
            node, image = item
            node.image = image
        elif kind == "mesh":
            upright.restore_plane(*item)


def _build(scene, p: Plan, result, node, made: list) -> tuple[str, str]:
    inputs = p.inputs
    state = scene.talking_head
    plane_obj = bpy.data.objects.get(inputs.plane) if inputs.plane else None
    original = bpy.data.images.get(inputs.original_image) if inputs.original_image else None
    take = TakeFolder(p.folder)
    record, track = take.read()
    fmt = record.frames.format
    frames = [take.frame_path(i, fmt) for i in range(1, track.n_frames + 1)]
    plane.write_hold_frame(take.frames_dir, fmt)
    duration = min(inputs.frame_final_duration, track.n_frames - inputs.frame_offset_start)
    start = inputs.frame_final_start
    channel = vse.free_channel(scene, inputs.channel, start, start + duration)
    strip = vse.add_image_strip(
        scene, p.take, frames, channel, inputs.frame_start, inputs.frame_offset_start, duration
    )
    made.append(("strip", strip))
    strip.directory = takes.portable(take.frames_dir) + "/"

    collection = (
        plane_obj.users_collection[0]
        if plane_obj is not None and plane_obj.users_collection
        else scene.collection
    )
    controller = curves.create_controller(f"{p.take} Controller", plane_obj, collection)
    made.append(("object", controller))
    controller[curves.CONTROLLER_KEY] = p.take
    curves.write_track(controller, track, inputs.frame_start)

    take_image, photo, reshaped = None, original, False
    if node is not None:
        take_image = plane.sequence_image(frames[0], f"{p.take} frames", original)
        made.append(("image", take_image))
        take_image.filepath = takes.portable(frames[0])
        made.append(("texture", (node, node.image)))
        plane.play_take(node, take_image, inputs.frame_start, track.n_frames)
        turn = upright.orientation(inputs.image_path, inputs.image_bytes)
        if turn != 1 and original is not None:  # the frames are upright: so is the rest
            photo, new = upright.upright_copy(original, turn)
            if new:
                made.append(("image", photo))
            old = upright.fit_plane(plane_obj, tuple(original.size), turn)
            if old is not None:
                made.append(("mesh", (plane_obj.data, old)))
                reshaped = True

    takes.add_record(
        state,
        p.take,
        folder=takes.portable(p.folder),
        source=inputs.source,
        image_path=str(inputs.image_path or ""),
        audio_path=str(inputs.audio_path or ""),
        sound_strip=inputs.sound_strip,
        strip=strip.name,
        plane=plane_obj,
        controller=controller,
        original_image=photo,
        take_image=take_image,
        frame_start=inputs.frame_start,
        n_frames=track.n_frames,
        fps=p.settings.fps,
        seed=p.settings.seed,
        frame_format=fmt,
        settings=p.settings.to_dict(),
        provider=result.provider,
    )
    state.provider = result.provider
    notes = "; ".join(
        result.notes
        + ([f"'{plane_obj.name}' now has the upright photo's proportions"] if reshaped else [])
    )
    message = f"{p.take}: {track.n_frames} frames on channel {channel} ({result.provider})"
    return "INFO", message + (f"; {notes}" if notes else "")
