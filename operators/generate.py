"""Generate, Re-render and Cancel: thin operators over vasa_blender's jobs."""

from __future__ import annotations

import bpy

from ..vasa_blender import generation, live, rerendering, sources, takes, verifying
from .job_modal import JobOperator, cancel_running, running_job


class TALKING_HEAD_OT_generate(JobOperator, bpy.types.Operator):
    """Make a new take from the portrait and the sound strip: frames, a strip and curves"""

    bl_idname = "talking_head.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def why_not(cls, context) -> str:
        return sources.why_not(context)

    def prepare(self, context):
        p = generation.plan(context)
        job = generation.make_job(p)
        job.live = live.for_generate(context.scene, p)
        return (
            job,
            lambda scene, job: generation.finish(scene, p, job),
            lambda job: generation.abandon(p, job),
        )


class TALKING_HEAD_OT_rerender(JobOperator, bpy.types.Operator):
    """Render again the frames of the take whose curves changed"""

    bl_idname = "talking_head.rerender"
    bl_label = "Re-render"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def why_not(cls, context) -> str:
        return "" if takes.active_take(context) is not None else "No take selected."

    def prepare(self, context):
        take = takes.active_take(context)
        p = rerendering.plan(take)
        job = rerendering.make_job(p)
        job.live = live.for_rerender(context.scene, take, p)
        return (job, lambda scene, job: rerendering.finish(scene, p, job), None)


class TALKING_HEAD_OT_verify_take(JobOperator, bpy.types.Operator):
    """Read the take's Content Credentials and watermark back: who signed it, when, with
    what, whether it changed since, and whether the watermark is the take's"""

    bl_idname = "talking_head.verify_take"
    bl_label = "Verify Take"
    bl_options = {"REGISTER"}

    @classmethod
    def why_not(cls, context) -> str:
        return "" if takes.active_take(context) is not None else "No take selected."

    def prepare(self, context):
        p = verifying.plan(context.scene, takes.active_take(context))
        return (verifying.make_job(p), lambda scene, job: verifying.finish(scene, p, job), None)


class TALKING_HEAD_OT_cancel(bpy.types.Operator):
    """Stop the running job; a cancelled take adds nothing and changes no earlier take"""

    bl_idname = "talking_head.cancel"
    bl_label = "Cancel"
    bl_options = {"INTERNAL"}

    @classmethod
    def poll(cls, context):
        return running_job() is not None

    def execute(self, context):
        cancel_running()
        context.scene.talking_head.status = "Cancelling..."
        return {"FINISHED"}


CLASSES = (
    TALKING_HEAD_OT_generate,
    TALKING_HEAD_OT_rerender,
    TALKING_HEAD_OT_verify_take,
    TALKING_HEAD_OT_cancel,
)
