"""How many threads the numeric libraries use while frames are rendered.

The renderer's spline products are small matrix products (a few hundred rows by two
columns). OpenBLAS splits them across threads anyway, and on two cores those threads fight
the frame writer and ONNX Runtime: at 512x512 the spline alone took 8 ms a frame instead
of 2 on a loaded machine, and rendering ran at 69-85 frames/s instead of 106. So the frame
loop holds BLAS to one thread (``threadpoolctl``, for every BLAS loaded: numpy's, SciPy's).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """BLAS on one thread inside the block, as it was after it."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
