"""The frame loop holds BLAS and OpenCV to one thread while it renders, and gives them back
after."""

from __future__ import annotations

import cv2
import numpy as np
from threadpoolctl import threadpool_info

from core.motion.track import MotionTrack
from core.stages import Renderer
from core.take.loop import render_frames


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


class _Probe(Renderer):
    """Records the BLAS thread counts it renders under."""

    seen: list[list[int]] = []

    @property
    def image_size(self) -> tuple[int, int]:
        return 4, 4

    def render(self, channels):
        self.seen.append([*_blas_threads(), cv2.getNumThreads()])
        return np.zeros((4, 4, 3), np.uint8)


def test_render_loop_uses_one_thread_and_restores_them():
    before = [*_blas_threads(), cv2.getNumThreads()]
    assert len(before) > 1, "numpy's BLAS is loaded"
    probe = _Probe()
    track = MotionTrack.neutral(3, 25.0)
    assert render_frames(probe, track, range(3), []) == "complete"
    assert probe.seen and all(counts == [1] * len(counts) for counts in probe.seen)
    assert [*_blas_threads(), cv2.getNumThreads()] == before
