"""Which way up a photo was stored: the EXIF orientation tag, read from the file's bytes.

Cameras and phones store the sensor's pixels as they came off it and tag the file with how
to turn them for viewing (TIFF/EXIF tag 0x0112, values 1 to 8). OpenCV's
``IMREAD_UNCHANGED`` (which keeps alpha and 16 bits) and Blender both ignore the tag, so a
phone portrait would reach the face analysis sideways or upside down. :func:`orientation`
reads the tag from a JPEG (APP1 ``Exif``), PNG (``eXIf``) or WebP (``EXIF``) without
decoding any pixels; :func:`upright` applies it. A TIFF file's own Orientation tag is left
to OpenCV's TIFF reader, which already flips some orientations itself.

Blender-free, and depends on nothing but numpy: the extension reads the tag with it too.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

import numpy as np

ORIENTATION_TAG = 0x0112

# What turning the stored pixels upright does, by orientation (1: already upright).
TURNS = {
    2: "mirrored left to right",
    3: "rotated 180°",
    4: "flipped upside down",
    5: "rotated 90° clockwise and mirrored",
    6: "rotated 90° clockwise",
    7: "rotated 90° anticlockwise and mirrored",
    8: "rotated 90° anticlockwise",
}


def tiff_tags(tiff: bytes, tags: Iterable[int]) -> dict[int, int]:
    """The integer values of ``tags`` found in IFD0 of a TIFF structure (a TIFF file, or the
    body of an EXIF block), classic or BigTIFF; tags that are absent or unreadable are left
    out, and anything malformed gives ``{}``."""
    wanted = set(tags)
    order = {b"II": "<", b"MM": ">"}.get(tiff[:2])
    if order is None or len(tiff) < 8:
        return {}
    magic = struct.unpack(order + "H", tiff[2:4])[0]
    if magic == 42:
        offset = struct.unpack(order + "I", tiff[4:8])[0]
        count_format, entry_size, head = "H", 12, 8  # head: tag, type, count before the value
        counts = "HHI"
    elif magic == 43 and len(tiff) >= 16:
        offset = struct.unpack(order + "Q", tiff[8:16])[0]
        count_format, entry_size, head = "Q", 20, 12
        counts = "HHQ"
    else:
        return {}
    count_size = struct.calcsize(count_format)
    if offset + count_size > len(tiff):
        return {}
    n = struct.unpack(order + count_format, tiff[offset : offset + count_size])[0]
    found: dict[int, int] = {}
    widths = {1: "B", 3: "H", 4: "I", 16: "Q"}  # BYTE, SHORT, LONG, LONG8
    start = offset + count_size
    for i in range(min(n, (len(tiff) - start) // entry_size)):
        entry = tiff[start + i * entry_size : start + (i + 1) * entry_size]
        tag, kind, count = struct.unpack(order + counts, entry[:head])
        if tag in wanted and kind in widths and count >= 1:
            value_format = order + widths[kind]
            size = struct.calcsize(value_format)
            if size <= entry_size - head:  # stored in the entry itself
                found[tag] = struct.unpack(value_format, entry[head : head + size])[0]
    return found


def _jpeg_exif(data: bytes) -> bytes:
    """The TIFF body of a JPEG's first APP1 ``Exif`` segment, or b""."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1  # stray bytes between segments: decoders skip them too
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1  # fill byte
            continue
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no EXIF after this
            return b""
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        payload = data[i + 4 : i + 2 + length]
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            return payload[6:]
        i += 2 + length
    return b""


def _png_exif(data: bytes) -> bytes:
    """The ``eXIf`` chunk of a PNG, or b""."""
    i = 8
    while i + 8 <= len(data):
        length = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        if kind == b"eXIf":
            return data[i + 8 : i + 8 + length]
        if kind == b"IEND":
            break
        i += 12 + length
    return b""


def _webp_exif(data: bytes) -> bytes:
    """The ``EXIF`` chunk of a WebP (some writers keep the ``Exif`` prefix), or b""."""
    i = 12
    while i + 8 <= len(data):
        kind = data[i : i + 4]
        length = struct.unpack("<I", data[i + 4 : i + 8])[0]
        if kind == b"EXIF":
            body = data[i + 8 : i + 8 + length]
            return body[6:] if body.startswith(b"Exif\x00\x00") else body
        i += 8 + length + (length & 1)
    return b""


def orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8) of an encoded image; 1 when it has none or when it is
    not a JPEG, PNG or WebP file."""
    if data.startswith(b"\xff\xd8"):
        tiff = _jpeg_exif(data)
    elif data.startswith(b"\x89PNG\r\n\x1a\n"):
        tiff = _png_exif(data)
    elif data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        tiff = _webp_exif(data)
    else:
        return 1
    value = tiff_tags(tiff, [ORIENTATION_TAG]).get(ORIENTATION_TAG, 1) if tiff else 1
    return value if value in TURNS else 1


def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels ([H, W] or [H, W, C], row 0 at the top) turned the way the tag says
    they are seen; a view, not a copy. Orientations 5 to 8 swap width and height."""
    if orientation == 2:
        return pixels[:, ::-1]
    if orientation == 3:
        return pixels[::-1, ::-1]
    if orientation == 4:
        return pixels[::-1]
    if orientation == 5:
        return pixels.swapaxes(0, 1)
    if orientation == 6:
        return pixels[::-1].swapaxes(0, 1)
    if orientation == 7:
        return pixels.swapaxes(0, 1)[::-1, ::-1]
    if orientation == 8:
        return pixels[:, ::-1].swapaxes(0, 1)
    return pixels


def note(name: str, orientation: int) -> str:
    """What the take's notes say about a turned photo ("" when it was upright)."""
    if orientation not in TURNS:
        return ""
    return (
        f"{name} is stored turned (EXIF orientation {orientation}); it was "
        f"{TURNS[orientation]} to stand upright."
    )
