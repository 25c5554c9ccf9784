"""Scene properties of *Animate Character* (``scene.talking_head.character``): the character,
its optional head and eye targets, the motion file, and the channel -> shape key mapping
table the user edits for rigs whose shape keys are not named after ARKit (saved with the
.blend)."""

from __future__ import annotations

import bpy
from bpy.props import CollectionProperty, IntProperty, PointerProperty, StringProperty

from . import compat


def _is_character(_self, obj: bpy.types.Object) -> bool:
    return obj.type in {"MESH", "ARMATURE"}


class ShapeKeyMapRow(bpy.types.PropertyGroup):
    """One row of the mapping table: a MotionTrack channel and the shape key it drives."""

    channel: StringProperty(name="Channel", description="ARKit channel, e.g. jawOpen")
    shape_key: StringProperty(name="Shape Key", description="The character's shape key name")


class CharacterState(bpy.types.PropertyGroup):
    target: PointerProperty(
        name="Character",
        type=bpy.types.Object,
        poll=_is_character,
        description="Mesh with ARKit-named shape keys, or an armature whose child meshes have them",
    )
    head_target: PointerProperty(
        name="Head", type=bpy.types.Object, description="Object (or armature) the head turns"
    )
    head_bone: StringProperty(name="Head Bone", description="Bone of the head armature")
    eye_left_target: PointerProperty(name="Left Eye", type=bpy.types.Object)
    eye_left_bone: StringProperty(name="Left Eye Bone")
    eye_right_target: PointerProperty(name="Right Eye", type=bpy.types.Object)
    eye_right_bone: StringProperty(name="Right Eye Bone")
    motion_file: StringProperty(
        name="Motion File",
        subtype="FILE_PATH",
        options=compat.RELATIVE_PATH_OPTIONS,
        description="A take's motion.npz (a capture, an import) to use instead of the voice",
    )
    mapping: CollectionProperty(type=ShapeKeyMapRow)
    mapping_index: IntProperty(name="Mapping Row", default=0)


CLASSES = (ShapeKeyMapRow, CharacterState)
