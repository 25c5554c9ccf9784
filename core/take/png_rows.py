"""PNG frames that reuse the compressed rows the renderer never touches.

A rendered frame differs from the portrait only inside the head region, so the PNG rows
above and below it are the same in every frame. They are filtered and deflated once; each
frame then deflates only the rows of the region. Each part is an independent deflate
segment (a fresh compressor ending on a byte boundary), so the parts concatenate into one
valid zlib stream; the Adler-32 checksums combine arithmetically.
"""

from __future__ import annotations

import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .frames import _png_text_chunk, encode_png

_ADLER_BASE = 65521
SPLIT_MIN_ROWS = 64  # below this the changing rows are deflated in one piece
_HELPER: ThreadPoolExecutor | None = None


def _helper() -> ThreadPoolExecutor:
    global _HELPER
    if _HELPER is None:
        _HELPER = ThreadPoolExecutor(1, thread_name_prefix="vasa-png-helper")
    return _HELPER


def adler32_combine(a1: int, a2: int, len2: int) -> int:
    """Adler-32 of A + B from Adler-32 of A, of B, and B's length (as zlib's own combine)."""
    rem = len2 % _ADLER_BASE
    sum1 = a1 & 0xFFFF
    sum2 = (rem * sum1) % _ADLER_BASE
    sum1 += (a2 & 0xFFFF) + _ADLER_BASE - 1
    sum2 += (a1 >> 16) + (a2 >> 16) + _ADLER_BASE - rem
    sum1 %= _ADLER_BASE
    sum2 %= _ADLER_BASE
    return sum1 | (sum2 << 16)


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def _filtered(rows: np.ndarray) -> bytes:
    """PNG scanlines with the Sub filter (type 1): each byte minus the one a pixel left."""
    out = np.empty((rows.shape[0], rows.shape[1] * 3 + 1), np.uint8)
    out[:, 0] = 1
    flat = rows.reshape(rows.shape[0], -1)
    out[:, 4:] = flat[:, 3:] - flat[:, :-3]  # uint8 arithmetic wraps, as PNG wants
    out[:, 1:4] = flat[:, :3]
    return out.tobytes()


class StillRowsPng:
    """Encodes RGB frames of ``base``'s size whose rows outside [y0, y1) equal ``base``'s.

    A frame that breaks that promise is still written correctly, by the plain encoder.
    """

    def __init__(
        self, base: np.ndarray, rows: tuple[int, int], text: dict[str, str], compression: int = 1
    ):
        self.base = base
        self.y0, self.y1 = rows
        self.text = text
        self.level = compression
        h, w = base.shape[:2]
        self.head = (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + b"".join(_png_text_chunk(k, v) for k, v in text.items())
        )
        self.top = self._segment(base[: self.y0])
        self.bottom = self._segment(base[self.y1 :], final=True)

    def _segment(self, rows: np.ndarray, final: bool = False) -> tuple[bytes, int, int]:
        """(raw deflate bytes, Adler-32, raw length) of some rows, as an independent part."""
        raw = _filtered(rows) if len(rows) else b""
        comp = zlib.compressobj(self.level, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
        data = comp.compress(raw) + comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)
        return data, zlib.adler32(raw), len(raw)

    def encode(self, frame: np.ndarray) -> bytes:
        if frame.shape != self.base.shape or not (
            np.array_equal(frame[: self.y0], self.base[: self.y0])
            and np.array_equal(frame[self.y1 :], self.base[self.y1 :])
        ):
            return encode_png(frame, self.text, self.level)
        # The changing rows in two halves, the second deflated on a helper thread (zlib
        # releases the GIL), so a big frame's encoding also uses the renderer's idle time.
        rows = frame[self.y0 : self.y1]
        half = len(rows) // 2
        if half >= SPLIT_MIN_ROWS:
            later = _helper().submit(self._segment, rows[half:])
            middle = [self._segment(rows[:half]), later.result()]
        else:
            middle = [self._segment(rows)]
        adler = 1
        body = [b"\x78\x01"]  # zlib header: deflate, 32 KiB window, fastest
        for data, a, n in (self.top, *middle, self.bottom):
            body.append(data)
            adler = adler32_combine(adler, a, n)
        body.append(struct.pack(">I", adler))
        return self.head + _chunk(b"IDAT", b"".join(body)) + _chunk(b"IEND", b"")
