"""The marks a take's frames carry, applied where frames leave the renderer.

``marked`` wraps a take's renderer so every frame it returns carries the invisible
watermark (``Settings.watermark``, a payload given) and the visible label
(``Settings.label``), and gives the still image the PNG writer should take the unchanging
pixels from (the portrait with the label drawn, when the label falls outside the
renderer's changing box). The watermark changes pixels of the face square in every frame,
so the changing box grows to hold it; the still image stays unwatermarked outside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from ..face.source import SourceFace
from ..stages import Renderer
from .label import Label
from .watermark import Watermark, take_payload

Mark = Callable[[np.ndarray], np.ndarray]


class MarkedRenderer(Renderer):
    """A renderer whose frames pass through ``marks`` (each in place on the RGB frame)."""

    def __init__(
        self,
        inner: Renderer,
        marks: Sequence[Mark],
        also_changes: tuple[int, int, int, int] | None = None,
    ):
        self.inner, self.marks = inner, tuple(marks)
        self.batch_size = inner.batch_size
        self.also_changes = also_changes  # pixels a mark changes in every frame

    @property
    def image_size(self) -> tuple[int, int]:
        return self.inner.image_size

    @property
    def changing_box(self) -> tuple[int, int, int, int] | None:
        box, extra = self.inner.changing_box, self.also_changes
        if box is None or extra is None:
            return box
        return (
            min(box[0], extra[0]),
            min(box[1], extra[1]),
            max(box[2], extra[2]),
            max(box[3], extra[3]),
        )

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


def watermark_payload(record) -> str:
    """The payload of a take's watermark (``watermark.take_payload``), recorded in its
    ``run.json`` under ``watermark`` (a re-render keeps the one recorded)."""
    recorded = record.extra.get("watermark") or {}
    payload = recorded.get("payload") or take_payload(record.to_json())
    record.extra["watermark"] = {"payload": payload}
    return str(payload)


def marked(
    renderer: Renderer,
    image: np.ndarray,
    face: SourceFace,
    label: bool,
    watermark: str | None = None,
) -> tuple[Renderer, np.ndarray]:
    """(the renderer to draw the take with, the still image for the PNG writer).
    ``watermark``: the payload to hide in every frame (None: no watermark). The watermark
    goes on first: the label is drawn over it, never under it."""
    marks: list[Mark] = []
    changes = None
    if watermark is not None:
        h, w = image.shape[:2]
        mark = Watermark(watermark, face.box, (w, h))
        marks.append(mark)
        changes = mark.box
    still = image
    if label:
        drawn = Label(image, face.box)
        marks.append(drawn)
        still = drawn(image.copy())
    if not marks:
        return renderer, image
    return MarkedRenderer(renderer, marks, changes), still
