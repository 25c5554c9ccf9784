"""PNG frames with pre-compressed still rows decode to exactly the frame given."""

from __future__ import annotations

import zlib

import cv2
import numpy as np

from core.take.frames import read_png_text
from core.take.png_rows import StillRowsPng, adler32_combine


def _decode(data: bytes) -> np.ndarray:
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB
    )


def test_adler32_combine_matches_zlib():
    rng = np.random.default_rng(0)
    a, b = rng.bytes(70000), rng.bytes(123457)
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)
    assert adler32_combine(1, zlib.adler32(b), len(b)) == zlib.adler32(b)


def test_frames_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    base = rng.integers(0, 256, (200, 53, 3), np.uint8)
    base[:, :20] = 200  # some runs, as in a photo
    text = {"Software": "test", "Description": "synthetic frame"}
    for rows in [(10, 40), (0, 200), (0, 30), (150, 200), (20, 20), (10, 180)]:
        enc = StillRowsPng(base, rows, text, 1)
        frame = base.copy()
        frame[rows[0] : rows[1]] = rng.integers(0, 256, (rows[1] - rows[0], 53, 3), np.uint8)
        data = enc.encode(frame)
        np.testing.assert_array_equal(_decode(data), frame)
        path = tmp_path / f"f{rows[0]}_{rows[1]}.png"
        path.write_bytes(data)
        assert read_png_text(path) == text


def test_frame_changed_outside_the_rows_still_correct():
    base = np.full((40, 30, 3), 90, np.uint8)
    enc = StillRowsPng(base, (10, 20), {}, 1)
    frame = base.copy()
    frame[35, 5] = (1, 2, 3)  # outside the promised rows: falls back to the plain encoder
    np.testing.assert_array_equal(_decode(enc.encode(frame)), frame)
