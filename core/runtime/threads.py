"""How many threads the numeric libraries use while frames are rendered.

While a take renders, one core renders and the other encodes and writes the frames. The
renderer's own calls are small (spline products of a few hundred rows by two columns, a
remap of the head's rectangle), and OpenBLAS and OpenCV split them across every core
anyway, where their threads fight the frame writer and ONNX Runtime: at 512x512 the spline
alone took 8 ms a frame instead of 2 on a loaded machine (rendering 69-85 -> 106 frames/s
with BLAS on one thread), and at 1920x1080 render + write went from about 40 to 46
frames/s with OpenCV on one thread. So the frame loop holds both to one thread
(``threadpoolctl`` for every BLAS loaded, numpy's and SciPy's; ``cv2.setNumThreads``) and
puts them back after.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import cv2


@contextlib.contextmanager
def render_threads() -> Iterator[None]:
    """BLAS and OpenCV on one thread inside the block, as they were after it."""
    from threadpoolctl import threadpool_limits

    before = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        cv2.setNumThreads(before)
