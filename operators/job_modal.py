"""The one pattern both Generate and Re-render follow: start a Job, poll it from a modal
timer on the main thread, let Esc or the Cancel button stop it, then finish on the main
thread in the scene the job started from. While it runs, each timer tick shows the frames
written so far (``live``). Under ``blender -b`` there is no event loop, so the job runs
blocking instead. Loading another file or disabling the extension cuts a
running job off cleanly (its half-made take folder is removed)."""

from __future__ import annotations

from collections.abc import Callable

import bpy
from bpy.app.handlers import persistent

from ..vasa_blender.jobs import Job, running_job
from ..vasa_blender.jobs import current as _active

POLL_SECONDS = 0.1

Finish = Callable[[bpy.types.Scene, Job], tuple[str, str]]


def cancel_running() -> bool:
    job = running_job()
    if job is None:
        return False
    job.cancel()
    return True


def abandon_running() -> None:
    """Stop the running job for good: nobody will finish it (file load, unregister)."""
    job, abandon = _active.get("job"), _active.get("abandon")
    _active.clear()
    if job is None:
        return
    _close_live(job)
    if abandon is not None:
        abandon(job)
    else:
        job.cancel()
        job.wait(30)


@persistent
def _on_load_pre(*_args) -> None:
    abandon_running()


def _close_live(job: Job) -> None:
    """Take the job's live preview out of the scene (before the take's own strip is made)."""
    live, job.live = job.live, None
    if live is None:
        return
    try:
        live.close()
    except Exception:  # noqa: BLE001 - a preview must never stop the take being finished
        import traceback

        traceback.print_exc()


def _update_live(job: Job) -> None:
    if job.live is None:
        return
    try:
        job.live.update()
    except Exception:  # noqa: BLE001 - the preview stops; the job goes on
        import traceback

        traceback.print_exc()
        _close_live(job)


def _redraw(context: bpy.types.Context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in {"SEQUENCE_EDITOR", "VIEW_3D", "PROPERTIES"}:
                area.tag_redraw()


class JobOperator:
    """Mixin for operators whose work is a Job; subclasses implement ``prepare``."""

    _job: Job | None = None
    _timer = None

    @classmethod
    def why_not(cls, context) -> str:
        """Empty when the operator can run; else the sentence Blender shows on its button."""
        raise NotImplementedError

    @classmethod
    def poll(cls, context):
        reason = "A job is running." if running_job() is not None else cls.why_not(context)
        if reason:
            cls.poll_message_set(reason)
        return not reason

    def prepare(self, context) -> tuple[Job, Finish, Callable[[Job], None] | None]:
        """Return the job, ``finish(scene, job) -> (level, message)`` and an optional
        ``abandon(job)`` that cleans up when the job is cut off."""
        raise NotImplementedError

    def _begin(self, context) -> tuple[Job, Finish] | None:
        if running_job() is not None:
            self.report(
                {"ERROR"}, "Another Talking Head job is running; wait for it or cancel it first."
            )
            return None
        try:
            job, finish, abandon = self.prepare(context)
        except Exception as exc:  # noqa: BLE001 - InputMissing and friends: one sentence
            self.report({"ERROR"}, str(exc))
            return None
        state = context.scene.talking_head
        state.running, state.progress, state.status = True, 0.0, job.label
        _active.update(job=job, scene=context.scene.name, abandon=abandon)
        return job, finish

    @staticmethod
    def _scene(context) -> bpy.types.Scene:
        return bpy.data.scenes.get(_active.get("scene", "")) or context.scene

    def _end(self, context, job: Job, finish: Finish) -> set[str]:
        scene = self._scene(context)
        state = scene.talking_head
        state.running = False
        _close_live(job)
        try:
            level, message = finish(scene, job)
        except Exception as exc:  # noqa: BLE001 - never leave the UI stuck in "running"
            import traceback

            traceback.print_exc()
            level, message = (
                "ERROR",
                (
                    f"{job.label} could not update the scene "
                    f"({type(exc).__name__}: {exc}); see the console."
                ),
            )
        state.progress = 1.0 if level == "INFO" else 0.0
        state.status = message
        _active.clear()
        self.report({level}, message)
        return {"FINISHED"} if level == "INFO" else {"CANCELLED"}

    def execute(self, context):
        if not bpy.app.background and context.window is not None:
            return self._start_modal(context)  # e.g. Repeat Last: never freeze the UI
        begun = self._begin(context)
        if begun is None:
            return {"CANCELLED"}
        job, finish = begun
        job.run()  # blocking: background mode and scripts without a window
        return self._end(context, job, finish)

    def invoke(self, context, event):
        if bpy.app.background or context.window is None:
            return self.execute(context)
        return self._start_modal(context)

    def cancel(self, context):
        """Blender ends the modal without us (window closed, handlers freed): clean up."""
        if self._timer is not None:
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
        if _active.get("job") is self._job:
            abandon_running()

    def _start_modal(self, context):
        begun = self._begin(context)
        if begun is None:
            return {"CANCELLED"}
        self._job, self._finish = begun
        self._job.start()
        wm = context.window_manager
        self._timer = wm.event_timer_add(POLL_SECONDS, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context, event):
        job = self._job
        if _active.get("job") is not job:  # abandoned (file loaded): stop polling
            context.window_manager.event_timer_remove(self._timer)
            self._timer = None
            return {"CANCELLED"}
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()
            return {"RUNNING_MODAL"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = self._scene(context).talking_head
        state.progress = job.progress
        state.status = "Cancelling..." if job.cancelled else job.message
        _update_live(job)  # the frames written so far, in the sequencer and on the plane
        _redraw(context)
        if not job.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        self._timer = None
        result = self._end(context, job, self._finish)
        _redraw(context)
        return result


def register() -> None:
    bpy.app.handlers.load_pre.append(_on_load_pre)


def unregister() -> None:
    abandon_running()
    if _on_load_pre in bpy.app.handlers.load_pre:
        bpy.app.handlers.load_pre.remove(_on_load_pre)
