"""PNG frames: the encoder, and frames with pre-compressed still pixels, decode to exactly the
frame given, in every reader the project's users have (OpenCV, Pillow, ffmpeg; Blender's
own reader is checked in the Blender scenarios), signed (a C2PA ``caBX`` chunk after IHDR,
as every PNG frame of a take is by default) or not."""

from __future__ import annotations

import subprocess
import zlib

import cv2
import numpy as np
import pytest

from core.take.frames import read_png_text
from core.take.png import StillRegionPng, adler32_combine, encode_png
from core.take.video import ffmpeg_exe


def _decode(data: bytes) -> np.ndarray:
    return cv2.cvtColor(
        cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2RGB
    )


def _photo_like(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (h, w, 3), np.uint8)
    base[:, : w // 3] = 200  # some runs, as in a photo
    return base


def test_adler32_combine_matches_zlib():
    rng = np.random.default_rng(0)
    a, b = rng.bytes(70000), rng.bytes(123457)
    assert adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)
    assert adler32_combine(1, zlib.adler32(b), len(b)) == zlib.adler32(b)


BOXES = [
    (5, 10, 30, 40),  # inside
    (0, 0, 53, 200),  # everything
    (0, 0, 20, 30),  # top-left corner
    (30, 150, 53, 200),  # bottom-right corner: the last pixel of a row changes
    (10, 20, 10, 20),  # empty
    (0, 10, 53, 180),  # whole rows
    (52, 0, 53, 200),  # the last column only
]


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("compression", [0, 1, 3, 6])
def test_still_region_frames_round_trip(tmp_path, box, compression):
    rng = np.random.default_rng(1)
    base = _photo_like(200, 53, 2)
    text = {"Software": "test", "Description": "synthetic frame"}
    enc = StillRegionPng(base, box, text, compression)
    x0, y0, x1, y1 = box
    for _ in range(3):  # the box's bytes are rewritten per frame: earlier ones must not leak
        frame = base.copy()
        frame[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), np.uint8)
        data = enc.encode(frame)
        np.testing.assert_array_equal(_decode(data), frame)
        assert zlib.decompress(data[data.index(b"IDAT") + 4 : -16])  # checksum verified
    path = tmp_path / "f.png"
    path.write_bytes(data)
    assert read_png_text(path) == text


def test_frame_changed_outside_the_box_still_correct():
    base = np.full((40, 30, 3), 90, np.uint8)
    enc = StillRegionPng(base, (5, 10, 20, 20), {}, 1)
    for y, x in [(35, 5), (15, 25), (15, 2), (0, 0)]:  # below, right, left, above
        frame = base.copy()
        frame[y, x] = (1, 2, 3)
        np.testing.assert_array_equal(_decode(enc.encode(frame)), frame)


def test_only_the_box_is_deflated_per_frame(monkeypatch):
    """The point of the encoder: a frame's new compressed bytes cover only the box, so a
    small box in a big frame costs little (timing-free: counted in bytes fed to deflate)."""
    import core.take.png as png

    module, level = png.deflater(1)
    fed: list[int] = []

    class Counting:
        adler32 = staticmethod(module.adler32)

        @staticmethod
        def compressobj(*args):
            real = module.compressobj(*args)

            class Comp:
                def compress(self, data):
                    fed.append(len(data))
                    return real.compress(data)

                def flush(self, mode):
                    return real.flush(mode)

            return Comp()

    monkeypatch.setattr(png, "deflater", lambda compression: (Counting, level))
    base = _photo_like(400, 600, 3)
    enc = StillRegionPng(base, (250, 100, 350, 300), {}, 1)
    fed.clear()  # the still spans, deflated once per take
    frame = base.copy()
    frame[100:300, 250:350] = 7
    np.testing.assert_array_equal(_decode(enc.encode(frame)), frame)
    assert sum(fed) == 200 * 101 * 3  # the box's columns and the pixel after, per row


@pytest.mark.parametrize("compression", [0, 1, 2, 3, 9])
def test_plain_png_round_trip_in_pillow(tmp_path, compression):
    from PIL import Image

    rgb = _photo_like(64, 48, 4)
    path = tmp_path / "p.png"
    path.write_bytes(encode_png(rgb, {"Software": "test"}, compression))
    with Image.open(path) as im:
        assert im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), rgb)


@pytest.mark.parametrize("signed", [False, True], ids=["plain", "signed"])
def test_still_region_frame_opens_in_pillow_and_ffmpeg(tmp_path, signed):
    from PIL import Image

    base = _photo_like(96, 128, 5)
    enc = StillRegionPng(base, (30, 20, 90, 70), {"Software": "test"}, 1)
    frame = base.copy()
    frame[20:70, 30:90] = np.random.default_rng(6).integers(0, 256, (50, 60, 3), np.uint8)
    path = tmp_path / "frame.png"
    data = enc.encode(frame)
    if signed:
        from core.marks.credentials import TakeFacts
        from core.marks.frame_signing import FrameSigner
        from core.marks.keys import local_key

        facts = TakeFacts("0" * 16, {}, {}, "2026-01-01")
        data = FrameSigner(local_key(tmp_path / "key"), facts).sign(data)
        assert data[37:41] == b"caBX"
    path.write_bytes(data)
    assert read_png_text(path) == {"Software": "test"}
    np.testing.assert_array_equal(_decode(data), frame)
    with Image.open(path) as im:
        im.load()  # Pillow verifies the zlib stream's checksum on a full read
        np.testing.assert_array_equal(np.asarray(im), frame)
    out = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True,
        check=True,
    )
    assert out.stderr == b""
    np.testing.assert_array_equal(np.frombuffer(out.stdout, np.uint8).reshape(frame.shape), frame)
