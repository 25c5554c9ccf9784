"""The marks a take's frames carry, applied where frames leave the renderer.

``marked`` wraps a take's renderer so every frame it returns carries the visible label when
``Settings.label`` asks for it, and gives the still image the PNG writer should take the
unchanging pixels from (the portrait with the label drawn, when the label falls outside the
renderer's changing box).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..face.source import SourceFace
from ..stages import Renderer
from .label import Label

Mark = Callable[[np.ndarray], np.ndarray]


class MarkedRenderer(Renderer):
    """A renderer whose frames pass through ``marks`` (each in place on the RGB frame)."""

    def __init__(self, inner: Renderer, marks: Sequence[Mark]):
        self.inner, self.marks = inner, tuple(marks)
        self.batch_size = inner.batch_size

    @property
    def image_size(self) -> tuple[int, int]:
        return self.inner.image_size

    @property
    def changing_box(self) -> tuple[int, int, int, int] | None:
        return self.inner.changing_box

    def _mark(self, frame: np.ndarray) -> np.ndarray:
        if frame.base is not None or not frame.flags.writeable:
            frame = frame.copy()  # never draw into a buffer the renderer keeps
        for mark in self.marks:
            frame = mark(frame)
        return frame

    def render(self, channels: Mapping[str, float]) -> np.ndarray:
        return self._mark(self.inner.render(channels))

    def render_batch(self, rows: np.ndarray, channels: Sequence[str]) -> list[np.ndarray]:
        return [self._mark(f) for f in self.inner.render_batch(rows, channels)]


def marked(
    renderer: Renderer, image: np.ndarray, face: SourceFace, label: bool
) -> tuple[Renderer, np.ndarray]:
    """(the renderer to draw the take with, the still image for the PNG writer)."""
    if not label:
        return renderer, image
    mark = Label(image, face.box)
    return MarkedRenderer(renderer, [mark]), mark(image.copy())
