"""Animate Character and the mapping table's rows: thin operators over vasa_blender.character."""

from __future__ import annotations

import bpy

from ..core.character.arkit import ARKIT_NAMES
from ..vasa_blender import character
from .job_modal import JobOperator


class TALKING_HEAD_OT_animate_character(JobOperator, bpy.types.Operator):
    """Key the character's ARKit shape keys (and head and eyes, if set) from the voice, into a
    new Action for this take"""

    bl_idname = "talking_head.animate_character"
    bl_label = "Animate Character"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def why_not(cls, context) -> str:
        return character.why_not(context)

    def prepare(self, context):
        p = character.plan(context)
        return (
            character.make_job(p),
            lambda scene, job: character.finish(scene, p, job),
            lambda job: character.abandon(p, job),
        )


class TALKING_HEAD_OT_mapping_add(bpy.types.Operator):
    """Add a row to the mapping table: a channel and the shape key it drives"""

    bl_idname = "talking_head.mapping_add"
    bl_label = "Add Mapping Row"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    channel: bpy.props.StringProperty(name="Channel", default="")
    shape_key: bpy.props.StringProperty(name="Shape Key", default="")

    def execute(self, context):
        state = context.scene.talking_head.character
        row = state.mapping.add()
        row.channel = self.channel or ARKIT_NAMES[(len(state.mapping) - 1) % len(ARKIT_NAMES)]
        row.shape_key = self.shape_key
        state.mapping_index = len(state.mapping) - 1
        return {"FINISHED"}


class TALKING_HEAD_OT_mapping_remove(bpy.types.Operator):
    """Remove the selected row of the mapping table"""

    bl_idname = "talking_head.mapping_remove"
    bl_label = "Remove Mapping Row"
    bl_options = {"REGISTER", "UNDO", "INTERNAL"}

    @classmethod
    def poll(cls, context):
        state = context.scene.talking_head.character
        return 0 <= state.mapping_index < len(state.mapping)

    def execute(self, context):
        state = context.scene.talking_head.character
        state.mapping.remove(state.mapping_index)
        state.mapping_index = min(state.mapping_index, len(state.mapping) - 1)
        return {"FINISHED"}


CLASSES = (
    TALKING_HEAD_OT_animate_character,
    TALKING_HEAD_OT_mapping_add,
    TALKING_HEAD_OT_mapping_remove,
)
