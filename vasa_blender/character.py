"""Animate Character: the voice (or a motion file) -> keys on a 3D character's shape keys.

Like Generate (``generation``): ``plan`` reads everything from ``bpy`` on the main thread,
the job's worker only makes the motion (``core.character.take``: no frames, so seconds),
and ``finish`` keys it on the main thread. Each take gets new Actions named after it (one
Action with a slot per animated datablock from Blender 4.4, one per datablock before), kept
with a fake user, so an earlier take's keys are never overwritten and stay in the .blend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import bpy
import numpy as np

from ..core.character.mapping import plan_shape_keys, rotation_curves
from ..core.character.take import MotionTake, motion_file_take, voice_take
from . import compat, sources, takes
from .curves import group_of, set_keys
from .generation import settings_for
from .jobs import Job
from .sources import InputMissing

TAKE_KEY = "talking_head_take"  # custom property of each take's Action: its folder


@dataclass
class Target:
    """An object, or a bone of an armature object, that a rotation drives."""

    obj: str
    bone: str = ""


@dataclass
class Plan:
    take: str
    folder: Path
    character: str
    meshes: list[str]
    mapping: dict[str, str]
    frame_start: int
    settings: object
    audio_path: Path | None = None
    audio_bytes: bytes | None = None
    audio_name: str = ""
    motion_file: Path | None = None
    head: Target | None = None
    eyes: list[Target] = field(default_factory=list)


def shape_key_meshes(obj: bpy.types.Object | None) -> list[bpy.types.Object]:
    """The meshes of a character that have shape keys: the mesh itself, or an armature's
    child meshes (at any depth)."""
    if obj is None:
        return []
    found = [obj] if obj.type == "MESH" else list(obj.children_recursive)
    return [o for o in found if o.type == "MESH" and o.data.shape_keys is not None]


def _target(obj: bpy.types.Object | None, bone: str, what: str) -> Target | None:
    if obj is None:
        return None
    if bone:
        if obj.type != "ARMATURE" or obj.pose is None or bone not in obj.pose.bones:
            raise InputMissing(f"'{obj.name}' has no bone '{bone}' for the {what}; fix the name.")
        return Target(obj.name, bone)
    return Target(obj.name)


def why_not(context: bpy.types.Context) -> str:
    try:
        _resolve(context, read=False)
        takes.takes_root(context)
    except InputMissing as exc:
        return str(exc)
    return ""


def _resolve(context: bpy.types.Context, read: bool) -> dict:
    scene = context.scene
    state = scene.talking_head.character
    obj = state.target
    if obj is None:
        raise InputMissing("Choose the character: a mesh with ARKit-named shape keys.")
    meshes = shape_key_meshes(obj)
    if not meshes:
        raise InputMissing(
            f"'{obj.name}' has no shape keys; choose a mesh with ARKit-named shape keys (or "
            "an armature whose child meshes have them)."
        )
    values: dict = {"character": obj.name, "meshes": [m.name for m in meshes]}
    if state.motion_file:
        path = Path(bpy.path.abspath(state.motion_file))
        if not path.exists():
            raise InputMissing(f"The motion file {path} does not exist; choose a motion.npz.")
        values["motion_file"] = path
        strip = None
        if compat.all_strips(scene):
            try:
                strip = sources.sound_strip(scene, scene.talking_head.sound_strip)
            except InputMissing:
                strip = None
        values["frame_start"] = int(strip.frame_start) if strip else scene.frame_start
    else:
        strip = sources.sound_strip(scene, scene.talking_head.sound_strip)
        if strip.sound is None:
            raise InputMissing(f"The sound strip '{strip.name}' has no sound; choose another.")
        path_, data = sources._file_or_packed(strip.sound, "sound", read)
        values |= {
            "audio_path": path_,
            "audio_bytes": data,
            "audio_name": Path(strip.sound.filepath).name or f"{strip.name}.wav",
            "frame_start": int(strip.frame_start),
        }
    values["head"] = _target(state.head_target, state.head_bone, "head")
    values["eyes"] = [
        t
        for t in (
            _target(state.eye_left_target, state.eye_left_bone, "left eye"),
            _target(state.eye_right_target, state.eye_right_bone, "right eye"),
        )
        if t is not None
    ]
    return values


def plan(context: bpy.types.Context) -> Plan:
    values = _resolve(context, read=True)
    state = context.scene.talking_head
    mapping = {r.channel.strip(): r.shape_key.strip() for r in state.character.mapping if r.channel}
    root = takes.takes_root(context)
    name, folder = takes.reserve_folder(state, root)
    return Plan(name, folder, mapping=mapping, settings=settings_for(context), **values)


def make_job(p: Plan) -> Job:
    def work(progress, cancel) -> MotionTake:
        if p.motion_file is not None:
            progress(0.5, "Reading the motion")
            return motion_file_take(p.motion_file, p.folder, p.settings)
        audio = p.audio_path
        if audio is None:  # a packed sound: into the take, where the engine can read it
            audio = p.folder / "inputs" / Path(p.audio_name).name
            audio.parent.mkdir(parents=True, exist_ok=True)
            audio.write_bytes(p.audio_bytes or b"")
        return voice_take(audio, p.folder, p.settings, progress, cancel)

    return Job(f"Animating {p.character} ({p.take})", work)


def abandon(p: Plan, job: Job) -> None:
    job.cancel()
    job.on_done(lambda: takes.discard_folder(p.folder))


def finish(scene: bpy.types.Scene, p: Plan, job: Job) -> tuple[str, str]:
    result = job.result
    if job.error or result is None or result.status != "complete":
        takes.discard_folder(p.folder)
        if job.error:
            return "ERROR", job.error
        return "WARNING", f"{p.take} cancelled; nothing was keyed and earlier takes are intact."
    made: list[bpy.types.Action] = []
    try:
        return key_take(p, result.track, made)
    except InputMissing as exc:
        _roll_back(made)
        takes.discard_folder(p.folder)
        return "ERROR", str(exc)
    except Exception as exc:  # noqa: BLE001 - roll back, then say it in one sentence
        import traceback

        traceback.print_exc()
        _roll_back(made)
        takes.discard_folder(p.folder)
        return "ERROR", (
            f"{p.take} could not be keyed ({type(exc).__name__}: {exc}); nothing was changed."
        )


def _roll_back(made: list) -> None:
    for action in made:
        bpy.data.actions.remove(action)


def key_take(p: Plan, track, made: list) -> tuple[str, str]:
    """Key ``track`` on the character, into new Actions of this take; (level, message)."""
    meshes = [bpy.data.objects.get(n) for n in p.meshes]
    if any(m is None or m.data.shape_keys is None for m in meshes):
        raise InputMissing(f"The character '{p.character}' changed while {p.take} was made.")
    keysets = {m.name: [k.name for k in m.data.shape_keys.key_blocks] for m in meshes}
    key_plan = plan_shape_keys(track.channels, keysets, p.mapping)
    rotations: list[tuple[bpy.types.Object, str, dict[int, np.ndarray]]] = []
    notes: list[str] = []
    for prefix, targets in (("head", [p.head] if p.head else []), ("gaze", p.eyes)):
        for target in targets:
            obj = bpy.data.objects.get(target.obj)
            if obj is None:
                raise InputMissing(f"The {prefix} target '{target.obj}' is gone.")
            holder = obj.pose.bones[target.bone] if target.bone else obj
            if holder.rotation_mode in {"QUATERNION", "AXIS_ANGLE"}:
                holder.rotation_mode = "XYZ"
                notes.append(f"'{target.bone or obj.name}' now rotates in XYZ Euler")
            rest = tuple(holder.rotation_euler)
            curves = rotation_curves(track, prefix, bool(target.bone), rest)  # type: ignore[arg-type]
            path = (
                f'pose.bones["{target.bone}"].rotation_euler' if target.bone else "rotation_euler"
            )
            rotations.append((obj, path, curves))
    keyed_ids: list[bpy.types.ID] = []
    for _channel, mesh, _key in key_plan.keys:
        key_id = bpy.data.objects[mesh].data.shape_keys
        if key_id not in keyed_ids:
            keyed_ids.append(key_id)
    for obj, _path, _curves in rotations:
        if obj not in keyed_ids:
            keyed_ids.append(obj)
    if not keyed_ids:
        raise InputMissing(
            f"None of the shape keys of '{p.character}' has an ARKit name (jawOpen, "
            "eyeBlinkLeft...); name them so or map them in the table."
        )
    action_name = f"{p.take} {p.character}"
    if compat.SLOTTED_ACTIONS:
        action = bpy.data.actions.new(action_name)
        made.append(action)
        for datablock in keyed_ids:
            compat.bind_new_action(datablock, action)
    else:
        for datablock in keyed_ids:
            action = bpy.data.actions.new(f"{action_name} {datablock.name}")
            made.append(action)
            compat.bind_new_action(datablock, action)
    for action in made:
        action.use_fake_user = True  # an earlier take's keys stay in the .blend
        action[TAKE_KEY] = takes.portable(p.folder)
    frames = p.frame_start + np.arange(track.n_frames, dtype=np.float32)
    for channel, mesh, key in key_plan.keys:
        key_id = bpy.data.objects[mesh].data.shape_keys
        curve = compat.ensure_fcurve(key_id, f'key_blocks["{key}"].value', 0, group_of(channel))
        set_keys(curve, frames, np.clip(track[channel], 0.0, 1.0))
    for obj, path, curves in rotations:
        for index, values in curves.items():
            set_keys(compat.ensure_fcurve(obj, path, index, "Head"), frames, values)
    message = (
        f"{p.take}: {len(key_plan.keys)} shape keys and {sum(len(c) for *_, c in rotations)} "
        f"rotation curves keyed from frame {p.frame_start} ({track.n_frames} frames) into "
        + ", ".join(f"'{a.name}'" for a in made)
    )
    if key_plan.missing:
        notes.append(f"'{p.character}' has no shape key for {', '.join(key_plan.missing)}")
    if key_plan.bad_mapping:
        notes.append(f"mapped shape keys not found: {', '.join(key_plan.bad_mapping)}")
    notes += list(track.meta.get("notes") or [])
    return "INFO", message + (f"; {'; '.join(notes)}" if notes else "")
