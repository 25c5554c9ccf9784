"""One engine job on a worker thread, polled from Blender's main thread.

Blender-free on purpose: the worker never touches ``bpy``; it only calls the engine and
stores plain values (progress, message, result, error) that the modal operator reads on
the main thread. Under ``blender -b`` the same job runs blocking with :meth:`Job.run`.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from ..core.errors import VasaError

Work = Callable[[Callable[[float, str], None], threading.Event], Any]


class Job:
    """``work(progress, cancel)`` run once; its return value becomes :attr:`result`."""

    def __init__(self, label: str, work: Work):
        self.label = label
        self.work = work
        self.cancel_event = threading.Event()
        self.progress = 0.0
        self.message = "Starting"
        self.result: Any = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._after: Callable[[], None] | None = None
        # Main-thread watcher of what the job has written (``live.LivePreview``): polled by
        # the modal operator, closed before the job is finished or when it is cut off.
        self.live: Any = None

    def _report(self, fraction: float, message: str) -> None:
        self.progress, self.message = float(fraction), message

    def run(self) -> None:
        """Do the work on the calling thread; errors end up in :attr:`error`, never raised."""
        try:
            self.result = self.work(self._report, self.cancel_event)
        except VasaError as exc:
            self.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, log the trace
            traceback.print_exc()
            self.error = (
                f"{self.label} failed unexpectedly ({type(exc).__name__}: {exc}); "
                "see the system console and report it."
            )
        finally:
            with self._lock:
                self._done.set()
                after, self._after = self._after, None
            if after is not None:
                after()

    def on_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the work has ended: now if it has, else on the worker
        thread right after it ends (so it must not touch ``bpy``)."""
        with self._lock:
            if not self._done.is_set():
                self._after = callback
                return
        callback()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.run, name=f"talking-head {self.label}", daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        self.cancel_event.set()

    @property
    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)


# The one job running now, shared by the operators (which start and finish it) and the
# panels (which show its progress): {"job": Job, "scene": scene name, "abandon": callable}.
current: dict = {}


def running_job() -> Job | None:
    """The job started and not yet finished on the main thread (its worker may be done)."""
    return current.get("job")
