"""Finding the portrait and the voice in the scene, and saying why when they are not there.

:func:`resolve` turns the panel's choices into plain file paths and frame numbers, or
raises :class:`InputMissing` with the one sentence the panel shows beside a disabled
*Generate* button.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import bpy

from . import compat


class InputMissing(Exception):
    """An input of the next take is missing; the message says which and what to do."""


@dataclass
class Inputs:
    """Plain values only: Blender data is named, never held, because a modal job outlives
    any Python reference to it (undo, deletion); ``finish`` looks the names up again."""

    image_path: Path | None  # None when the image is packed: see image_bytes
    image_bytes: bytes | None
    image_name: str
    source: str  # what the portrait came from, for the take record
    plane: str  # object name, "" when the source is not an image plane
    material: str  # the plane's material and its image texture node
    texture_node: str
    original_image: str  # image datablock name, "" for an image strip
    audio_path: Path | None
    audio_bytes: bytes | None
    audio_name: str
    sound_strip: str
    frame_start: int  # scene frame where the sound strip's content starts
    frame_offset_start: int
    frame_final_start: int
    frame_final_duration: int
    channel: int


def texture_slot(
    obj: bpy.types.Object,
) -> tuple[bpy.types.Material | None, bpy.types.ShaderNodeTexImage | None]:
    """The material and image texture node of an image plane: the first texture that feeds
    a shader, else the first with an image; (None, None) when there is none."""
    if obj is None or obj.type != "MESH":
        return None, None
    found = []
    for slot in obj.material_slots:
        mat = slot.material
        if not compat.uses_nodes(mat):
            continue
        found += [(mat, n) for n in mat.node_tree.nodes if n.type == "TEX_IMAGE" and n.image]
    linked = [pair for pair in found if any(o.is_linked for o in pair[1].outputs)]
    return (linked or found or [(None, None)])[0]


def image_texture_node(obj: bpy.types.Object) -> bpy.types.ShaderNodeTexImage | None:
    return texture_slot(obj)[1]


def _file_or_packed(datablock, kind: str, read: bool) -> tuple[Path | None, bytes | None]:
    """A file path for an image or sound datablock, or its packed bytes (read only when
    ``read``: the panel checks inputs on every redraw)."""
    packed = getattr(datablock, "packed_file", None)
    if packed is not None:
        return None, bytes(packed.data) if read else b""
    path = Path(bpy.path.abspath(datablock.filepath, library=datablock.library))
    if not datablock.filepath or not path.is_file():
        raise InputMissing(
            f"The {kind} '{datablock.name}' has no file on disk "
            f"({datablock.filepath or 'no path'}); save or pack it first."
        )
    return path, None


def find_texture_node(plane: str, material: str, node: str):
    """The image texture node named in Inputs, or None when any of it is gone."""
    obj = bpy.data.objects.get(plane)
    mat = bpy.data.materials.get(material)
    if obj is None or mat is None or mat.node_tree is None:
        return None
    found = mat.node_tree.nodes.get(node)
    return found if found is not None and found.type == "TEX_IMAGE" else None


def _portrait(state, read: bool) -> tuple:
    kind = state.source_kind
    if kind == "PLANE":
        obj = state.source_object
        if obj is None:
            active = bpy.context.view_layer.objects.active if bpy.context.view_layer else None
            obj = active if image_texture_node(active) is not None else None
        if obj is None:
            raise InputMissing("Choose an image plane: a mesh whose material has an image texture.")
        material, node = texture_slot(obj)
        if node is None:
            raise InputMissing(
                f"'{obj.name}' has no image texture in its material; pick an image plane."
            )
        image = node.image
        # The plane already plays a take, or shows a turned photo's upright copy
        # (vasa_blender.upright): use the photo they came from.
        came_from = image.get("talking_head_take") or image.get("talking_head_upright_of")
        if came_from is not None:
            original = (
                came_from
                if isinstance(came_from, bpy.types.Image)
                else bpy.data.images.get(came_from)
            )
            if original is None:
                raise InputMissing(
                    f"'{obj.name}' shows a take or copy whose original image '{came_from}' "
                    "is gone; set its image texture back to the photo."
                )
            image = original
        path, data = _file_or_packed(image, "image", read)
        return (
            path,
            data,
            image.name,
            f"plane:{obj.name}",
            obj.name,
            material.name,
            node.name,
            image.name,
        )
    if kind == "IMAGE":
        image = state.source_image
        if image is None:
            raise InputMissing("Choose an image for the portrait.")
        path, data = _file_or_packed(image, "image", read)
        return path, data, image.name, f"image:{image.name}", "", "", "", image.name
    strip = compat.find_strip(bpy.context.scene, state.source_strip)
    if strip is None or strip.type != "IMAGE":
        raise InputMissing("Choose an image strip for the portrait.")
    path = Path(bpy.path.abspath(strip.directory)) / strip.elements[0].filename
    if not path.is_file():
        raise InputMissing(
            f"The image strip '{strip.name}' points to a missing file ({path}); fix its path."
        )
    return path, None, path.name, f"strip:{strip.name}", "", "", "", ""


def strip_of_type(scene: bpy.types.Scene, name: str, kind: str, none: str, several: str):
    """The chosen strip of type ``kind`` ("SOUND", "MOVIE"), or the scene's only one when
    none is chosen; InputMissing with ``none`` or ``several`` when that is not one."""
    label = kind.lower()
    if name:
        strip = compat.find_strip(scene, name)
        if strip is None or strip.type != kind:
            raise InputMissing(f"There is no {label} strip named '{name}'; choose one.")
        return strip
    found = [s for s in compat.all_strips(scene) if s.type == kind]
    if len(found) == 1:
        return found[0]
    raise InputMissing(several if found else none)


def sound_strip(scene: bpy.types.Scene, name: str):
    """The chosen sound strip, or the scene's only sound strip when none is chosen."""
    return strip_of_type(
        scene,
        name,
        "SOUND",
        "Add a sound strip with the voice to the sequencer.",
        "The scene has several sound strips; choose the voice.",
    )


# A silent take's "strip length" before its motion is read: the take keeps all its frames.
WHOLE_MOTION = 1 << 30


def motion_file(state) -> Path | None:
    """Generate's Motion File as an absolute path (None when unset), or InputMissing."""
    if not state.motion_file:
        return None
    path = Path(bpy.path.abspath(state.motion_file))
    if not path.is_file():
        raise InputMissing(f"The motion file {path} does not exist; choose a motion.npz.")
    return path


def _silent(scene: bpy.types.Scene, portrait: tuple) -> Inputs:
    """A take from a motion file with no sound strip: it starts at the scene's first frame."""
    start = int(scene.frame_start)
    return Inputs(*portrait, None, None, "", "", start, 0, start, WHOLE_MOTION, 1)


def resolve(context: bpy.types.Context, read: bool = True) -> Inputs:
    """The inputs of the next take, or InputMissing saying what to fix. With a motion file
    the sound strip is optional (used, to place the take and mux, when there is one)."""
    scene = context.scene
    state = scene.talking_head
    portrait = _portrait(state, read)
    path, data, name, source, plane, material, node, original = portrait
    if motion_file(state) is not None:
        try:
            strip = sound_strip(scene, state.sound_strip)
        except InputMissing:
            return _silent(scene, portrait)
        if strip.sound is None:
            return _silent(scene, portrait)
    else:
        strip = sound_strip(scene, state.sound_strip)
    if strip.sound is None:
        raise InputMissing(f"The sound strip '{strip.name}' has no sound; choose another.")
    audio_path, audio_bytes = _file_or_packed(strip.sound, "sound", read)
    return Inputs(
        path,
        data,
        name,
        source,
        plane,
        material,
        node,
        original,
        audio_path,
        audio_bytes,
        Path(strip.sound.filepath).name or f"{strip.name}.wav",
        strip.name,
        int(strip.frame_start),
        int(strip.frame_offset_start),
        int(strip.frame_final_start),
        int(strip.frame_final_duration),
        int(strip.channel),
    )


def why_not(context: bpy.types.Context) -> str:
    """Empty when a take can be generated now; else the sentence the panel shows."""
    try:
        resolve(context, read=False)
        from .takes import takes_root

        takes_root(context)
    except InputMissing as exc:
        return str(exc)
    return ""
