"""PNG frames that reuse the compressed bytes of the pixels the renderer never touches.

A rendered frame differs from the portrait only inside the head region's box, so in the
PNG's filtered byte stream most bytes are the same in every frame: the rows above and
below the box, and in each of its rows the bytes left and right of it. Those still spans
are deflated once per take; each frame deflates only the box's columns, row by row, and
the parts are joined into one valid zlib stream. Every part ends on a byte boundary and
never refers back across a boundary (a fresh compressor, or a full flush), so the decoder
needs nothing but the concatenation; the Adler-32 checksums combine arithmetically.

Deflating is ISA-L's (``isal``, zlib-compatible output, about 4x faster than zlib's level
1 at a similar size): at 1920x1080 a frame's encoding went from 45 ms (zlib, whole rows)
to about 6 ms (``make bench``).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import numpy as np

_ADLER_BASE = 65521
# Filter type 1 (Sub) for every row: each byte minus the byte one pixel to its left.
_SUB = 1


def deflater(compression: int) -> tuple[Any, int]:
    """(zlib-like module, level) for a PNG compression setting (0-9, as zlib's levels).

    0 stores; 1-3 are ISA-L's levels 1-3 (fast; 1 is the default); 4-9 are zlib's own
    levels (smaller files, several times slower)."""
    if 1 <= compression <= 3:
        from isal import isal_zlib

        return isal_zlib, compression
    return zlib, compression


def row_level(module: Any, level: int) -> int:
    """The level for a frame's changing rows, deflated row by row: ISA-L's level 1 pays
    about 20 us per call to set up, four times its level 0, which at 1920x1080 costs 5 ms
    a frame instead of 11 for files about 5% larger (the still rows keep level 1)."""
    return 0 if module is not zlib and level == 1 else level


def _crc32(data: bytes, value: int = 0) -> int:
    from isal import isal_zlib

    return isal_zlib.crc32(data, value) & 0xFFFFFFFF


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
    crc = _crc32(body, _crc32(kind))
    return b"".join((struct.pack(">I", len(body)), kind, body, struct.pack(">I", crc)))


def _chunk_parts(kind: bytes, body: list[bytes]) -> list[bytes]:
    """``_chunk`` of the concatenation of ``body``, left in pieces (no copy of the body)."""
    crc, size = _crc32(kind), 0
    for part in body:
        crc = _crc32(part, crc)
        size += len(part)
    return [struct.pack(">I", size), kind, *body, struct.pack(">I", crc)]


_IEND = _chunk(b"IEND", b"")


def png_text_chunk(keyword: str, text: str) -> bytes:
    """A tEXt chunk (Latin-1; characters it lacks become '?')."""
    return _chunk(b"tEXt", keyword.encode("latin-1") + b"\0" + text.encode("latin-1", "replace"))


def png_head(width: int, height: int, text: dict[str, str]) -> bytes:
    """Signature, IHDR (8-bit RGB, not interlaced) and the tEXt chunks."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + b"".join(png_text_chunk(k, v) for k, v in text.items())
    )


def filtered(rgb: np.ndarray) -> np.ndarray:
    """[h, 1 + 3w] PNG scanlines of an RGB image, each with the Sub filter."""
    h = rgb.shape[0]
    flat = rgb.reshape(h, -1)
    out = np.empty((h, flat.shape[1] + 1), np.uint8)
    out[:, 0] = _SUB
    out[:, 1:4] = flat[:, :3]
    np.subtract(flat[:, 3:], flat[:, :-3], out=out[:, 4:])  # uint8 wraps, as PNG wants
    return out


def _zlib_header(level: int) -> bytes:
    """CMF/FLG of a zlib stream: deflate, 32 KiB window, the level's hint."""
    flevel = 0 if level <= 1 else 1 if level <= 5 else 2 if level == 6 else 3
    cmf = 0x78
    flg = flevel << 6
    flg += 31 - ((cmf << 8) + flg) % 31
    return bytes((cmf, flg))


def _deflate(module: Any, level: int, data: bytes | memoryview, final: bool) -> bytes:
    """One independent raw-deflate part ending on a byte boundary."""
    comp = module.compressobj(level, zlib.DEFLATED, -15, 9)
    return comp.compress(data) + comp.flush(zlib.Z_FINISH if final else zlib.Z_SYNC_FLUSH)


def encode_png(rgb: np.ndarray, text: dict[str, str], compression: int = 1) -> bytes:
    """PNG bytes of an RGB uint8 image with tEXt chunks right after the IHDR chunk."""
    module, level = deflater(compression)
    raw = filtered(np.ascontiguousarray(rgb))
    data = _deflate(module, level, raw.data, final=True)
    body = _zlib_header(level) + data + struct.pack(">I", zlib.adler32(raw.data))
    h, w = rgb.shape[:2]
    return png_head(w, h, text) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


class StillRegionPng:
    """Encodes RGB frames of ``base``'s size whose pixels outside ``box`` equal ``base``'s.

    ``box`` is (x0, y0, x1, y1). A frame that breaks that promise is still written
    correctly, by the plain encoder.
    """

    def __init__(
        self,
        base: np.ndarray,
        box: tuple[int, int, int, int],
        text: dict[str, str],
        compression: int = 1,
    ):
        h, w = base.shape[:2]
        x0, y0, x1, y1 = box
        self.base = base
        self.box = (max(0, x0), max(0, y0), min(w, max(x0, x1)), min(h, max(y0, y1)))
        x0, y0, x1, y1 = self.box
        self.text = text
        self.compression = compression
        self.module, self.level = deflater(compression)
        self.row_level = row_level(self.module, self.level)
        self.head = png_head(w, h, text)
        self.header = _zlib_header(self.level)
        # Changing bytes of a row: pixels x0 .. x1 (x1 too: its Sub filter reads x1 - 1).
        self.c0, self.c1 = 1 + 3 * x0, 1 + 3 * min(x1 + 1, w)
        self.empty = x1 <= x0 or y1 <= y0
        self.work = filtered(base)  # the whole stream; the box's bytes rewritten per frame
        stream = self.work.reshape(-1)
        stride = self.work.shape[1]
        if self.empty:
            self.still: list[bytes] = []
            self.whole = _deflate(zlib, self.level, stream.data, final=True)
            self.adler = zlib.adler32(stream.data)
            return
        # Still spans: before the first changing span, between consecutive ones, after
        # the last (that one ends the stream).
        starts = [y * stride + self.c0 for y in range(y0, y1)]
        ends = [y * stride + self.c1 for y in range(y0, y1)]
        bounds = [0, *[b for pair in zip(starts, ends, strict=True) for b in pair], len(stream)]
        spans = [(bounds[k], bounds[k + 1]) for k in range(0, len(bounds), 2)]
        # The once-per-take parts with zlib itself: a take's frames came out byte-different
        # (same pixels) in about one run in twenty while its ISA-L level-1 parts were
        # in use, and these parts are deflated once, so zlib's speed costs nothing per frame.
        self.still = [
            _deflate(zlib, self.level, stream[a:b].data, final=(k == len(spans) - 1))
            for k, (a, b) in enumerate(spans)
        ]
        # The changing spans as views of ``work``: rewritten in place, read per frame.
        self.changing = [stream[a:b].data for a, b in zip(starts, ends, strict=True)]
        self.adler_above = zlib.adler32(stream[: y0 * stride].data)
        self.adler_below = zlib.adler32(stream[y1 * stride :].data)
        self.len_band = (y1 - y0) * stride
        self.len_below = (h - y1) * stride

    def _matches_base(self, frame: np.ndarray) -> bool:
        x0, y0, x1, y1 = self.box
        b = self.base
        return frame.shape == b.shape and (
            np.array_equal(frame[:y0], b[:y0])
            and np.array_equal(frame[y1:], b[y1:])
            and np.array_equal(frame[y0:y1, :x0], b[y0:y1, :x0])
            and np.array_equal(frame[y0:y1, x1:], b[y0:y1, x1:])
        )

    def encode(self, frame: np.ndarray) -> bytes:
        return b"".join(self.encode_parts(frame))

    def encode_parts(self, frame: np.ndarray) -> list[bytes]:
        """The PNG file as pieces to write in order: a 1080p frame is about 3 MB, and every
        copy of it (joining, signing, writing) is time on the writer thread with the GIL."""
        if not self._matches_base(frame):
            return [encode_png(frame, self.text, self.compression)]
        if self.empty:
            idat = [self.header, self.whole, struct.pack(">I", self.adler)]
            return [self.head, *_chunk_parts(b"IDAT", idat), _IEND]
        x0, y0, x1, y1 = self.box
        w = frame.shape[1]
        band = self.work[y0:y1]
        # Sub-filter the box's columns (and the pixel after it) into the work rows.
        p0, p1 = x0, min(x1 + 1, w)
        rows = frame[y0:y1, max(0, p0 - 1) : p1].reshape(y1 - y0, -1)
        if p0 == 0:
            band[:, 1:4] = rows[:, :3]
            np.subtract(rows[:, 3:], rows[:, :-3], out=band[:, 4 : self.c1])
        else:
            np.subtract(rows[:, 3:], rows[:, :-3], out=band[:, self.c0 : self.c1])
        adler = adler32_combine(self.adler_above, self.module.adler32(band), self.len_band)
        adler = adler32_combine(adler, self.adler_below, self.len_below)
        comp = self.module.compressobj(self.row_level, zlib.DEFLATED, -15, 9)
        compress, flush = comp.compress, comp.flush
        full = zlib.Z_FULL_FLUSH  # no reference back past a part the next frame replaces
        parts = [self.header, self.still[0]]
        for span, gap in zip(self.changing, self.still[1:], strict=True):
            parts += (compress(span), flush(full), gap)
        parts.append(struct.pack(">I", adler))
        # The box's rows joined (small pieces cost a call each to hash, CRC and write); the
        # still rows above and below it (at 1080p over 1.5 MB) left as they are.
        body = [*parts[:2], b"".join(parts[2:-2]), *parts[-2:]]
        return [self.head, *_chunk_parts(b"IDAT", body), _IEND]
