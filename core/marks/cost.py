"""What the invisible watermark costs a frame, for ``make bench`` (core/quality/bench.py).

The mark runs on the render thread, once per frame, over the face square only, so its
cost is measured alone on the portrait's own pixels (a rendered frame differs only in the
face), with one BLAS and OpenCV thread as in the frame loop: the median of ``frames``
calls after one to warm up, and its share of a take's end-to-end time a frame when that
is given. Measure on an idle machine: on 2 shared cores the figure doubles or more.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from ..face.portrait import read_portrait
from ..runtime.factory import landmark_meter
from ..runtime.threads import render_threads
from .watermark import Watermark


def watermark_cost(image: Path, frames: int = 50) -> dict[str, float]:
    """{"ms_per_frame", "set_up_ms", "width", "height"} of watermarking ``image``'s frames."""
    pixels = read_portrait(image).pixels
    found = landmark_meter().detect(pixels)
    if not found:
        raise ValueError(f"no face in {image}")
    h, w = pixels.shape[:2]
    start = time.perf_counter()
    mark = Watermark("0123456789", found[0].box, (w, h))
    set_up = time.perf_counter() - start
    mark(pixels.copy())
    times = []
    with render_threads():  # one BLAS and OpenCV thread, as in the frame loop
        for _ in range(frames):
            frame = pixels.copy()
            start = time.perf_counter()
            mark(frame)
            times.append(time.perf_counter() - start)
    return {
        "ms_per_frame": statistics.median(times) * 1000,
        "set_up_ms": set_up * 1000,
        "width": w,
        "height": h,
    }


def bench_line(
    image: Path, seconds_per_frame: float | None = None, cost: dict[str, float] | None = None
) -> str:
    """One line for ``make bench``: the watermark's time a frame and, given the take's
    end-to-end seconds a frame, its share of them. ``cost``: ``watermark_cost(image)``
    measured already (else measured now)."""
    cost = cost if cost is not None else watermark_cost(image)
    line = (
        f"watermark:          {cost['ms_per_frame']:7.2f} ms a frame "
        f"({int(cost['width'])}x{int(cost['height'])}, set-up {cost['set_up_ms']:.0f} ms once)"
    )
    if seconds_per_frame:
        share = cost["ms_per_frame"] / (seconds_per_frame * 1000)
        line += f", {share:.1%} of end to end"
    return line
