"""The one frame loop: render MotionTrack rows and hand each frame to its writers.

Generate, re-render and the evaluation sweep all render through ``render_frames``: it checks
for a cancel before each batch, passes the renderer whole track rows (``batch_size`` at a
time, so a GPU renderer can batch), sends each frame through every target's transform to
its writer, and closes the writers however it ends. Ctrl-C counts as a cancel; any other
error propagates after the writers have finished what they were given.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..motion.track import MotionTrack
from ..runtime.threads import render_threads
from ..stages import Renderer
from .frames import FrameWriter

Cancel = threading.Event | Callable[[], bool] | None


def is_cancelled(cancel: Cancel) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


@dataclass
class FrameTarget:
    """One output of the loop: a writer, and what to make of a rendered frame for it."""

    writer: FrameWriter
    transform: Callable[[np.ndarray], np.ndarray] | None = None


def render_frames(
    renderer: Renderer,
    track: MotionTrack,
    indices: Sequence[int],
    targets: Sequence[FrameTarget],
    cancel: Cancel = None,
    on_frame: Callable[[int, int], None] | None = None,
) -> str:
    """Render the 0-based frames ``indices`` of ``track`` into ``targets`` (as file numbers
    ``index + 1``); "complete" or "cancelled". ``on_frame(k, index)`` follows the k-th."""
    status = "complete"
    batch = max(1, int(renderer.batch_size))
    try:
        with contextlib.ExitStack() as stack:
            stack.enter_context(render_threads())
            for target in targets:
                stack.enter_context(target.writer)
            for start in range(0, len(indices), batch):
                if is_cancelled(cancel):
                    status = "cancelled"
                    break
                chunk = list(indices[start : start + batch])
                frames = renderer.render_batch(track.data[chunk], track.channels)
                for k, (i, frame) in enumerate(zip(chunk, frames, strict=True)):
                    for target in targets:
                        out = target.transform(frame) if target.transform else frame
                        target.writer.put(i + 1, out)
                    if on_frame is not None:
                        on_frame(start + k, i)
    except KeyboardInterrupt:
        status = "cancelled"
    return status
