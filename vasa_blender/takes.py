"""Where takes go, what they are called, and the record each leaves on the scene.

Takes are written to the scene's *Takes Folder*, ``//vasa/`` by default: a folder beside
the .blend file, so a project folder carries its takes. With a relative folder and an
unsaved .blend there is no "beside", so Generate refuses and says to save first (or to
choose an absolute folder); nothing is written to a temporary place that would be lost.
Each take gets a new folder name, never one that exists, so no take overwrites another.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import bpy

from ..core.take.frames import output_error
from .sources import InputMissing


def takes_root(context: bpy.types.Context) -> Path:
    """The absolute folder that holds this scene's takes, or InputMissing saying why not."""
    folder = context.scene.talking_head.takes_folder or "//vasa/"
    if folder.startswith("//") and not bpy.data.filepath:
        raise InputMissing(
            "Save the .blend file first: takes are written to a folder "
            "beside it (or set an absolute Takes Folder)."
        )
    return Path(bpy.path.abspath(folder)).resolve()


def portable(path: Path) -> str:
    """``path`` relative to the .blend (``//...``) when it lies beside or below it, so a
    project folder can move with its takes; else absolute."""
    blend = bpy.data.filepath
    if blend and Path(path).resolve().is_relative_to(Path(blend).resolve().parent):
        return bpy.path.relpath(str(path))
    return str(path)


def absolute(path: str) -> Path:
    return Path(bpy.path.abspath(path)).resolve()


def new_take_name(state, root: Path) -> str:
    """The first ``take_NNN`` that neither a folder nor a record of this scene uses."""
    used = {t.name for t in state.takes}
    n = 1
    while f"take_{n:03d}" in used or (root / f"take_{n:03d}").exists():
        n += 1
    return f"take_{n:03d}"


def reserve_folder(state, root: Path) -> tuple[str, Path]:
    """Create the next free take folder (atomically: another Blender or a batch run writing
    to the same place gets another name) and return its name and path."""
    while True:
        name = new_take_name(state, root)
        try:
            (root / name).mkdir(parents=True)
            return name, root / name
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputMissing(str(output_error(root / name, exc))) from exc


def discard_folder(folder: Path) -> None:
    """Remove a take folder this job reserved (after a cancel or a failure)."""
    shutil.rmtree(folder, ignore_errors=True)


def add_record(state, name: str, **values) -> bpy.types.PropertyGroup:
    record = state.takes.add()
    record.name = name
    for key, value in values.items():
        if key == "settings":
            record.settings_json = json.dumps(value, sort_keys=True)
        else:
            setattr(record, key, value)
    state.active_take = len(state.takes) - 1
    return record


def active_take(context: bpy.types.Context):
    """The take the user means: the active strip's take in the sequencer, else the one
    selected in the panel's list."""
    state = context.scene.talking_head
    editor = context.scene.sequence_editor
    if context.area is not None and context.area.type == "SEQUENCE_EDITOR" and editor:
        strip = editor.active_strip
        take = take_for_strip(state, strip.name) if strip is not None else None
        if take is not None:
            return take
    if 0 <= state.active_take < len(state.takes):
        return state.takes[state.active_take]
    return None


def take_for_strip(state, strip_name: str):
    for take in state.takes:
        if take.strip == strip_name:
            return take
    return None
