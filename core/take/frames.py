"""Writing a take to disk: frames on a background thread, each file atomic; ``run.json``.

PNG encoding (``png``: ISA-L's deflate, which releases the GIL) overlaps with rendering on
the other core. Each frame is written to a temporary name and renamed, so a cancelled or
crashed run leaves only complete frames. Provenance text goes into every PNG as a tEXt
chunk; a signed C2PA manifest (``marks.frame_signing``), when the writer is given ``sign``,
right after a PNG's IHDR or a JPEG's SOI, added on the same thread.
"""

from __future__ import annotations

import errno
import json
import os
import queue
import struct
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np

from ..errors import OutputError
from ..face.portrait import load_image
from .png import encode_png

FRAME_PATTERN = "frame_{:06d}.png"
FRAME_PATTERN_PRINTF = "frame_%06d.png"  # the same names, as ffmpeg and run.json spell them


class FrameFormat(NamedTuple):
    suffix: str
    label: str
    description: str


# Frame file formats by setting value, the command line's and Blender's choices: PNG
# (lossless, with provenance text), JPEG (small, quality 95, the provenance in a COM
# segment) and OpenEXR (half float, scene-linear, ZIP compressed, for compositing). The name
# stem is the same for all; only the extension differs.
FRAME_FORMATS = {
    "png": FrameFormat(".png", "PNG", "Lossless 8-bit frames with provenance text"),
    "jpeg": FrameFormat(".jpg", "JPEG", "Small 8-bit frames (quality 95)"),
    "exr": FrameFormat(".exr", "OpenEXR", "Half-float scene-linear frames for compositing"),
}


def frame_name(index: int, fmt: str = "png") -> str:
    """File name of frame ``index`` (1-based) in format ``fmt``."""
    return f"frame_{index:06d}{FRAME_FORMATS[fmt].suffix}"


def frame_pattern_printf(fmt: str = "png") -> str:
    """The frame names as ffmpeg and run.json spell them."""
    return "frame_%06d" + FRAME_FORMATS[fmt].suffix


def encode_jpeg(rgb: np.ndarray, text: dict[str, str], quality: int = 95) -> bytes:
    """JPEG bytes with the provenance text as a COM segment right after SOI."""
    ok, buf = cv2.imencode(
        ".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise OutputError("The JPEG encoder failed on a frame; report this as a bug.")
    data = buf.tobytes()
    comment = "; ".join(f"{k}: {v}" for k, v in text.items()).encode("latin-1", "replace")
    comment = comment[:65000]
    segment = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segment + data[2:]


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """uint8 sRGB -> float32 scene-linear (what OpenEXR readers such as Blender expect)."""
    x = rgb.astype(np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb8(linear: np.ndarray) -> np.ndarray:
    """float scene-linear -> uint8 sRGB, the inverse of ``srgb_to_linear``."""
    x = np.clip(linear.astype(np.float32), 0.0, 1.0)
    srgb = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055)
    return np.clip(np.round(srgb * 255.0), 0, 255).astype(np.uint8)


def read_frame(path: Path, fmt: str) -> np.ndarray:
    """A frame file of a take as RGB uint8 (an OpenEXR frame back in sRGB)."""
    if fmt != "exr":
        return load_image(path)
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    data = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    if data is None or data.ndim != 3:
        raise OutputError(f"Frame {path.name} could not be read as OpenEXR; render it again.")
    return linear_to_srgb8(cv2.cvtColor(data[:, :, :3], cv2.COLOR_BGR2RGB))


def encode_exr(rgb: np.ndarray) -> bytes:
    """Half-float, ZIP-compressed OpenEXR bytes of an sRGB uint8 frame, made linear."""
    # OpenCV reads this switch at call time; without it, EXR support is off.
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    linear = cv2.cvtColor(srgb_to_linear(rgb), cv2.COLOR_RGB2BGR)
    params = [
        cv2.IMWRITE_EXR_TYPE,
        cv2.IMWRITE_EXR_TYPE_HALF,
        cv2.IMWRITE_EXR_COMPRESSION,
        cv2.IMWRITE_EXR_COMPRESSION_ZIP,
    ]
    ok, buf = cv2.imencode(".exr", linear, params)
    if not ok:
        raise OutputError("The OpenEXR encoder failed on a frame; report this as a bug.")
    return buf.tobytes()


def encode_frame(rgb: np.ndarray, fmt: str, text: dict[str, str], compression: int = 1) -> bytes:
    """Bytes of one frame file in format ``fmt`` (see FRAME_FORMATS)."""
    if fmt == "png":
        return encode_png(rgb, text, compression)
    if fmt == "jpeg":
        return encode_jpeg(rgb, text)
    if fmt == "exr":
        return encode_exr(rgb)
    raise ValueError(f"unknown frame format {fmt!r}")


def read_png_text(path: str | Path) -> dict[str, str]:
    """tEXt chunks of a PNG file (used by tests and by anyone checking provenance)."""
    data = Path(path).read_bytes()
    pos, out = 8, {}
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"tEXt":
            key, _, value = data[pos + 8 : pos + 8 + length].partition(b"\0")
            out[key.decode("latin-1")] = value.decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return out


def write_atomic(path: Path, data: bytes | Sequence[bytes]) -> None:
    """Write bytes (or pieces of them, in order) to ``path`` via a temporary file in the
    same folder and a rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                fh.writelines(data)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        raise output_error(path, exc) from exc


def output_error(path: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        return OutputError(
            f"The disk is full while writing {path.name} in {path.parent}; "
            "free some space and generate again."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputError(
            f"The output folder {path.parent} is not writable; choose another "
            "folder or fix its permissions."
        )
    return OutputError(f"Could not write {path} ({exc.strerror or exc}); check the output folder.")


def check_writable_folder(folder: Path, what: str) -> Path:
    """The folder things will be written in (``folder`` or its nearest existing parent,
    from which the rest is made); OutputError naming ``what`` unless it is a writable
    folder. Checked before anything is made."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(
            f"{what} cannot be written because {existing} is a file, not a folder; choose "
            "another path."
        )
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(
            f"{what} cannot be written because the folder {existing} is read-only; choose "
            "another path."
        )
    return existing


def write_json(path: Path, payload: dict) -> None:
    write_atomic(path, (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode())


class FrameWriter:
    """Encodes and writes frames on a worker thread; ``put`` blocks when it falls behind.

    Use as a context manager; errors on the worker (full disk...) surface on the next
    ``put`` or on ``close`` as OutputError.
    """

    def __init__(
        self,
        folder: Path,
        text: dict[str, str],
        compression: int = 1,
        max_pending: int = 6,
        fmt: str = "png",
        encoder: Callable[[np.ndarray], bytes | list[bytes]] | None = None,
        sink: Callable[[int, bytes], None] | None = None,
        sign: Callable[[bytes | list[bytes]], bytes | list[bytes]] | None = None,
    ):
        if fmt not in FRAME_FORMATS:
            raise ValueError(f"unknown frame format {fmt!r}")
        self.fmt = fmt
        self.encoder = encoder  # replaces encode_frame (png.StillRegionPng.encode_parts)
        self.sink = sink  # replaces writing frame files (stream.StreamSink)
        self.sign = sign  # encoded bytes -> signed bytes (marks.frame_signing), on this thread
        self.folder = folder
        self.text = text
        self.compression = compression
        self.written = 0  # index of the last frame known complete on disk
        self.first_written_at: float | None = None  # time.perf_counter() of the first
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._reported = False
        self._thread = threading.Thread(target=self._work, name="vasa-frame-writer", daemon=True)
        self._thread.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is not None:
                continue  # drain without writing after a failure
            index, frame = item
            try:
                data = (
                    self.encoder(frame)
                    if self.encoder is not None
                    else encode_frame(frame, self.fmt, self.text, self.compression)
                )
                if self.sign is not None:
                    data = self.sign(data)
                if self.sink is not None:
                    self.sink(index, data if isinstance(data, bytes) else b"".join(data))
                else:
                    write_atomic(self.folder / frame_name(index, self.fmt), data)
                self.written = index
                if self.first_written_at is None:
                    self.first_written_at = time.perf_counter()
            except BaseException as exc:  # noqa: BLE001 - re-raised on the caller's thread
                self._error = exc

    def _raise_pending(self) -> None:
        # The error stays set so the worker skips every later frame (no hole in the
        # numbering); it is raised once, on the caller's thread.
        if self._error is not None and not self._reported:
            self._reported = True
            raise self._error

    def put(self, index: int, frame: np.ndarray) -> None:
        """Queue frame ``index`` (1-based) for writing; ``written`` assumes ascending order."""
        self._raise_pending()
        self._queue.put((index, frame))

    def close(self) -> None:
        """Wait until every queued frame is on disk; raise a worker error if any."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_pending()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, exc_type, *rest) -> None:
        if exc_type is None:
            self.close()
        elif self._thread.is_alive():  # already failing: finish queued frames, keep that error
            self._queue.put(None)
            self._thread.join()
