"""The one pattern both Generate and Re-render follow: start a Job, poll it from a modal
timer on the main thread, let Esc or the Cancel button stop it, then finish on the main
thread. Under ``blender -b`` there is no event loop, so the job runs blocking instead."""

from __future__ import annotations

from collections.abc import Callable

import bpy

from ..vasa_blender.jobs import Job

POLL_SECONDS = 0.1
_active: dict = {}  # the running job: {"job": Job, "scene": scene name}


def running_job() -> Job | None:
    job = _active.get("job")
    return job if job is not None and not job.done else None


def cancel_running() -> bool:
    job = running_job()
    if job is None:
        return False
    job.cancel()
    return True


def _redraw(context: bpy.types.Context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type in {"SEQUENCE_EDITOR", "VIEW_3D", "PROPERTIES"}:
                area.tag_redraw()


class JobOperator:
    """Mixin for operators whose work is a Job; subclasses implement ``prepare``."""

    _job: Job | None = None
    _finish: Callable | None = None
    _timer = None

    def prepare(self, context) -> tuple[Job, Callable]:
        """Return the job and ``finish(context, job) -> (level, message)``."""
        raise NotImplementedError

    def _begin(self, context):
        if running_job() is not None:
            self.report({"ERROR"}, "Another Talking Head job is running; wait for it or "
                                   "cancel it first.")
            return None
        try:
            job, finish = self.prepare(context)
        except Exception as exc:  # noqa: BLE001 - InputMissing and friends: one sentence
            self.report({"ERROR"}, str(exc))
            return None
        state = context.scene.talking_head
        state.running, state.progress, state.status = True, 0.0, job.label
        _active.update(job=job, scene=context.scene.name)
        return job, finish

    def _end(self, context, job: Job, finish: Callable) -> set[str]:
        state = context.scene.talking_head
        state.running = False
        try:
            level, message = finish(context, job)
        except Exception as exc:  # noqa: BLE001 - never leave the UI stuck in "running"
            import traceback

            traceback.print_exc()
            level, message = "ERROR", (f"{job.label} could not update the scene "
                                       f"({type(exc).__name__}: {exc}); see the console.")
        state.progress = 1.0 if level == "INFO" else 0.0
        state.status = message
        _active.clear()
        self.report({level}, message)
        return {"FINISHED"} if level == "INFO" else {"CANCELLED"}

    def execute(self, context):
        begun = self._begin(context)
        if begun is None:
            return {"CANCELLED"}
        job, finish = begun
        job.run()  # blocking: background mode, scripts and tests
        return self._end(context, job, finish)

    def invoke(self, context, event):
        if bpy.app.background:
            return self.execute(context)
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
        if event.type == "ESC" and event.value == "PRESS":
            job.cancel()
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        state = context.scene.talking_head
        state.progress = job.progress
        state.status = ("Cancelling..." if job.cancelled else job.message)
        _redraw(context)
        if not job.done:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        result = self._end(context, job, self._finish)
        _redraw(context)
        return result
