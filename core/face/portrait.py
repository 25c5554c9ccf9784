"""Reading the portrait: any common format to upright RGB uint8, with clear errors.

Two things are settled from the file's header before any pixel is decoded: its size (a
small file can declare 30000x30000 pixels and would take gigabytes to decode, so anything
over ``MAX_SIDE`` a side is refused first), and its EXIF orientation (a phone photo stored
sideways is turned upright, see ``exif``).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ..errors import ImageError
from . import exif

MIN_SIDE = 64
MAX_SIDE = 8192


@dataclass
class Portrait:
    """The decoded portrait and what was done to it on the way in."""

    pixels: np.ndarray  # RGB uint8 [H, W, 3], upright
    orientation: int = 1  # the EXIF orientation that was applied; 1: stored upright
    notes: list[str] = field(default_factory=list)  # for the take's notes (run.json)


def load_image(path: str | Path) -> np.ndarray:
    """RGB uint8 [H, W, 3], upright. Alpha is composited over black; 16-bit is scaled to
    8-bit."""
    return read_portrait(path).pixels


def read_portrait(path: str | Path) -> Portrait:
    """The portrait's pixels, turned upright by its EXIF orientation, with a note saying so;
    ImageError (one sentence) for a missing, empty, undecodable or oversized file."""
    path = Path(path)
    if not path.is_file():
        raise ImageError(f"Image file not found: {path}; check the path.")
    if path.stat().st_size == 0:
        raise ImageError(f"Image file {path.name} is empty; choose another image.")
    raw = path.read_bytes()
    size = declared_size(raw)
    if size is None:
        raise undecodable(path.name)
    if max(size) > MAX_SIDE:
        raise too_large(path.name, *size)
    # UNCHANGED keeps alpha and 16 bits, and ignores the EXIF orientation: applied here.
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise undecodable(path.name)
    turn = exif.orientation(raw)
    image = np.ascontiguousarray(exif.upright(image, turn))
    note = exif.note(path.name, turn)
    return Portrait(to_rgb8(image, path.name), turn, [note] if note else [])


def undecodable(name: str) -> ImageError:
    return ImageError(f"Image file {name} could not be decoded; save it as PNG or JPEG and retry.")


def too_large(label: str, width: int, height: int) -> ImageError:
    return ImageError(
        f"{label} is {width}x{height} pixels, larger than the {MAX_SIDE}-pixel limit; "
        "scale it down and retry."
    )


def to_rgb8(image: np.ndarray, label: str = "the image") -> np.ndarray:
    """Normalise a decoded (BGR/BGRA/grey, 8/16-bit) image to RGB uint8 and check its size."""
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        alpha = image[:, :, 3:4].astype(np.float32) / 255.0
        image = cv2.cvtColor((image[:, :, :3] * alpha).astype(np.uint8), cv2.COLOR_BGR2RGB)
    else:
        image = cv2.cvtColor(image[:, :, :3], cv2.COLOR_BGR2RGB)
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise ImageError(
            f"{label} is only {w}x{h} pixels; use a portrait at least "
            f"{MIN_SIDE} pixels on each side."
        )
    if max(h, w) > MAX_SIDE:
        raise too_large(label, w, h)
    return np.ascontiguousarray(image)


# -- the size a file declares, read from its header -------------------------------------
def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) as the header of an encoded image declares them, for every format
    OpenCV reads (PNG, JPEG, WebP, TIFF, BMP, JPEG 2000, OpenEXR, Radiance HDR, Sun raster,
    PBM/PGM/PPM/PAM/PFM); None when the format is none of these or the header is cut short,
    so nothing is decoded without its size known first."""
    try:
        for signature, reader in _READERS:
            if data.startswith(signature):
                size = reader(data)
                return size if size is not None and min(size) > 0 else None
    except (struct.error, ValueError, IndexError):
        return None
    return None


def _png(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _jpeg(data: bytes) -> tuple[int, int] | None:
    """The first SOFn frame header, walking the segments as a decoder does."""
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD9, 0xDA):  # no frame header before the scan: not decodable
            return None
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _webp(data: bytes) -> tuple[int, int] | None:
    if data[8:12] != b"WEBP":
        return None
    kind, body = data[12:16], data[20:]
    if kind == b"VP8X":  # the canvas: 24-bit width - 1, height - 1
        return int.from_bytes(body[4:7], "little") + 1, int.from_bytes(body[7:10], "little") + 1
    if kind == b"VP8 " and body[3:6] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and body[:1] == b"\x2f":
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _tiff(data: bytes) -> tuple[int, int] | None:
    tags = exif.tiff_tags(data, (256, 257))  # ImageWidth, ImageLength of the first page
    return (tags[256], tags[257]) if len(tags) == 2 else None


def _bmp(data: bytes) -> tuple[int, int] | None:
    header = struct.unpack("<I", data[14:18])[0]
    if header == 12:  # OS/2 BITMAPCOREHEADER
        return struct.unpack("<HH", data[18:22])
    width, height = struct.unpack("<ii", data[18:26])
    return abs(width), abs(height)


def _j2k(data: bytes) -> tuple[int, int] | None:
    """A JPEG 2000 codestream: the SIZ segment right after SOC."""
    if data[2:4] != b"\xff\x51":
        return None
    x, y, x0, y0 = struct.unpack(">IIII", data[8:24])
    return x - x0, y - y0


def _jp2(data: bytes) -> tuple[int, int] | None:
    """A JP2 file: the codestream box's SIZ (what the decoder allocates for, whatever the
    ``ihdr`` box says)."""
    i = 0
    while i + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[i : i + 8])
        start = i + 8
        if length == 1:
            length = struct.unpack(">Q", data[i + 8 : i + 16])[0]
            start = i + 16
        if kind == b"jp2c":
            return _j2k(data[start:])
        if length == 0:
            return None
        if length < start - i:
            return None
        i += length
    return None


def _exr(data: bytes) -> tuple[int, int] | None:
    """OpenEXR: the ``dataWindow`` attribute of the (first) header."""
    i = 8
    while i < len(data) and data[i] != 0:
        name_end = data.index(b"\x00", i)
        type_end = data.index(b"\x00", name_end + 1)
        size = struct.unpack("<i", data[type_end + 1 : type_end + 5])[0]
        if size < 0:
            return None  # a damaged (or crafted) header: never loop back
        value = type_end + 5
        if data[i:name_end] == b"dataWindow" and size == 16:
            x0, y0, x1, y1 = struct.unpack("<iiii", data[value : value + 16])
            return x1 - x0 + 1, y1 - y0 + 1
        i = value + size
    return None


def _hdr(data: bytes) -> tuple[int, int] | None:
    """Radiance RGBE: header lines, an empty line, then e.g. ``-Y 512 +X 768``."""
    end = data.find(b"\n\n")
    if end < 0:
        return None
    line = data[end + 2 : data.find(b"\n", end + 2)].decode("ascii")
    axes = dict(re.findall(r"[-+]([XY])\s+(\d+)", line))
    return (int(axes["X"]), int(axes["Y"])) if len(axes) == 2 else None


def _pnm(data: bytes) -> tuple[int, int] | None:
    """PBM/PGM/PPM (P1-P6) and PFM (PF, Pf): width and height follow the magic, with
    ``#`` comments allowed in between; PAM (P7): WIDTH and HEIGHT lines."""
    text = data[:4096].decode("latin-1")
    if text.startswith("P7"):
        fields = dict(re.findall(r"^(WIDTH|HEIGHT)\s+(\d+)", text, re.MULTILINE))
        return (int(fields["WIDTH"]), int(fields["HEIGHT"])) if len(fields) == 2 else None
    tokens = re.sub(r"#[^\n]*", " ", text[2:]).split()
    return int(tokens[0]), int(tokens[1])


def _sun(data: bytes) -> tuple[int, int] | None:
    return struct.unpack(">II", data[4:12])


_READERS = (
    (b"\x89PNG\r\n\x1a\n", _png),
    (b"\xff\xd8\xff", _jpeg),
    (b"RIFF", _webp),
    (b"II*\x00", _tiff),
    (b"MM\x00*", _tiff),
    (b"II+\x00", _tiff),
    (b"MM\x00+", _tiff),
    (b"BM", _bmp),
    (b"\xff\x4f\xff\x51", _j2k),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", _jp2),
    (b"\x76\x2f\x31\x01", _exr),
    (b"#?RADIANCE", _hdr),
    (b"#?RGBE", _hdr),
    (b"\x59\xa6\x6a\x95", _sun),
    *((f"P{c}".encode(), _pnm) for c in "1234567fF"),
)
