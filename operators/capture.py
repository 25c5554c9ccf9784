"""Capture: a thin operator over vasa_blender.capturing."""

from __future__ import annotations

import bpy

from ..vasa_blender import capturing
from .job_modal import JobOperator


class TALKING_HEAD_OT_capture(JobOperator, bpy.types.Operator):
    """Read a talking face's motion from a movie strip or a video file into a new take, and
    use it as the Motion File of Generate and Animate Character"""

    bl_idname = "talking_head.capture"
    bl_label = "Capture Motion"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def why_not(cls, context) -> str:
        return capturing.why_not(context)

    def prepare(self, context):
        p = capturing.plan(context)
        return (
            capturing.make_job(p),
            lambda scene, job: capturing.finish(scene, p, job),
            lambda job: capturing.abandon(p, job),
        )


CLASSES = (TALKING_HEAD_OT_capture,)
