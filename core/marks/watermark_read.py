"""Reading the invisible watermark back from a frame or a video, whatever was done to it.

A reader knows neither the frame's original size nor where the grid was. It detects the
face, and for each cell size near what that face suggests (2^(j/4) pixels: halving a
frame turns one allowed size into another) it samples a window of cells around the face
and computes every bit's projection at every whole-cell offset at once (template
matching). Where the grid is, all the projections sit on their quantisation lattice
("lattice fit" near 1; about 0.64 elsewhere); the CRC of the best offsets' bits says
which is right. A re-encoded or resized frame keeps the grid on its lattice from the
frame's corner, so only whole cells are searched; a cropped one is then searched at
fractions of a cell too. A video's frames are read one by one and their soft bits at the
grid found summed, so a mark too weak to read in one frame is read from many.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from .watermark import (
    _Y,
    DELTAS,
    GRID,
    SQUARE,
    bits_payload,
    cell_index,
    cell_size,
    key,
    sample_cells,
)

MARGIN = 12  # whole cells searched either side of where the face puts the grid
SIZES = 3  # cell sizes tried either side of the face's own (2^(1/4) apart)
PHASES = 6  # sub-cell offsets per axis tried when the grid is off the frame's lattice
TOP = 6  # best offsets whose bits are checked against the CRC

Box = tuple[float, float, float, float]


@dataclass
class Reading:
    """One frame's reading: the grid (corner x, y and cell, pixels), its lattice fit and
    the soft bits (+1 = 0, -1 = 1) for every step."""

    grid: tuple[float, float, float]
    fit: float
    soft: dict[float, np.ndarray]


@dataclass
class Result:
    """What was read: the payload (None when no CRC checked) and how sure."""

    payload: str | None
    delta: float | None = None
    confidence: float = 0.0  # mean |soft| of the bits (1 = every bit on its lattice)
    frames_read: int = 0
    frames_found: int = 0  # frames with a face and a grid that read
    bits: np.ndarray | None = None  # the hard bits at the best step (for measurements)


def luma_of(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _Y


def _soft(x: np.ndarray, delta: float) -> np.ndarray:
    """Soft bits of projections ``x`` [..., N_BITS] for step ``delta``."""
    r = (x - key().dither * delta) / delta
    return np.cos(2 * np.pi * r).astype(np.float32)


def decide(soft: dict[float, np.ndarray]) -> tuple[str | None, float | None, float, np.ndarray]:
    """(payload, step, confidence, hard bits): the step whose bits pass the CRC with the
    most confidence, else the most confident step's bits with no payload."""
    found: tuple[str | None, float | None, float, np.ndarray] | None = None
    fallback: tuple[str | None, float | None, float, np.ndarray] | None = None
    for delta, values in soft.items():
        bits = (values < 0).astype(np.uint8)
        conf = float(np.mean(np.abs(values)))
        payload = bits_payload(bits)
        if payload is not None and (found is None or conf > found[2]):
            found = (payload, delta, conf, bits)
        if fallback is None or conf > fallback[2]:
            fallback = (None, delta, conf, bits)
    assert fallback is not None
    return found or fallback


def _search(luma: np.ndarray, x0: float, y0: float, cell: float) -> list[Reading]:
    """Readings at the TOP whole-cell offsets of a window whose first cell's corner is
    (x0, y0), best lattice fit first."""
    n = GRID + 2 * MARGIN
    window = sample_cells(luma, x0, y0, cell, n)
    k = key()
    proj = np.stack(
        [cv2.matchTemplate(window, u.reshape(GRID, GRID), cv2.TM_CCORR) for u in k.bits], -1
    )  # [2M+1, 2M+1, N]
    fits = {d: np.abs(_soft(proj, d)).mean(-1) for d in DELTAS}
    best = np.max(np.stack(list(fits.values())), 0)
    order = np.argsort(best.reshape(-1))[::-1][:TOP]
    out = []
    for flat in order:
        oy, ox = np.unravel_index(int(flat), best.shape)
        x = proj[oy, ox]
        out.append(
            Reading(
                (float(x0 + ox * cell), float(y0 + oy * cell), cell),
                float(best[oy, ox]),
                {d: _soft(x, d) for d in DELTAS},
            )
        )
    return out


def read_frame(luma: np.ndarray, face: Box, phases: bool = True) -> Reading | None:
    """The best reading of one frame whose face was detected at ``face``: the first grid
    whose bits pass the CRC (on the frame's lattice first, then at sub-cell offsets when
    ``phases``), else the best-fitting grid; None when there is nothing to read."""
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    j0 = cell_index(SQUARE * max(face[2] - face[0], face[3] - face[1]))
    sizes = sorted(range(j0 - SIZES, j0 + SIZES + 1), key=lambda j: abs(j - j0))
    # On the frame's lattice first (re-encoded, resized), at every size; then, size by
    # size from the face's own, at sub-cell offsets (cropped).
    tries = [(j, 0.0, 0.0) for j in sizes]
    if phases:
        grid = np.arange(PHASES) / PHASES
        tries += [(j, float(a), float(b)) for j in sizes for b in grid for a in grid if a or b]
    best: Reading | None = None
    for j, fx, fy in tries:
        cell = cell_size(j)
        if cell < 1.0:
            continue
        # The window's corner on the frame's lattice (shifted by the sub-cell offset).
        col = np.floor((cx - GRID * cell / 2) / cell) - MARGIN
        row = np.floor((cy - GRID * cell / 2) / cell) - MARGIN
        for reading in _search(luma, (col + fx) * cell, (row + fy) * cell, cell):
            if decide(reading.soft)[0] is not None:
                return reading
            if best is None or reading.fit > best.fit:
                best = reading
    return best


def combine(readings: Sequence[Reading], frames_read: int) -> Result:
    """One result from many frames' readings (soft values averaged per step)."""
    if not readings:
        return Result(None, frames_read=frames_read)
    total = {d: np.mean([r.soft[d] for r in readings], axis=0) for d in DELTAS}
    payload, delta, conf, bits = decide(total)
    return Result(payload, delta, conf, frames_read, len(readings), bits)


def read_frames(
    frames: Iterable[np.ndarray],
    detect: Callable[[np.ndarray], Box | None],
    phases: bool = True,
) -> Result:
    """Read the watermark from RGB frames; ``detect(rgb)`` gives the face box or None."""
    readings, n = [], 0
    for rgb in frames:
        n += 1
        face = detect(rgb)
        if face is None:
            continue
        reading = read_frame(luma_of(rgb), face, phases)
        if reading is not None:
            readings.append(reading)
    return combine(readings, n)


VIDEO_FRAMES = 8  # frames of a video read (evenly spread), their soft bits summed


def read_file(path, detect: Callable[[np.ndarray], Box | None] | None = None) -> Result:
    """The watermark of a PNG or JPEG frame or an MP4 video (``VIDEO_FRAMES`` of its
    frames). ``detect`` defaults to the built-in face detector."""
    from pathlib import Path

    path = Path(path)
    if detect is None:
        detect = default_detector()
    if path.suffix.lower() == ".mp4":
        # A video keeps its frames' lattice (re-encoded or resized): whole cells, many
        # frames; only if that fails, a cropped video: sub-cell offsets on two frames.
        result = read_frames(_video_frames(path, VIDEO_FRAMES), detect, phases=False)
        if result.payload is None:
            again = read_frames(_video_frames(path, 2), detect)
            if again.payload is not None:
                again.frames_read = result.frames_read
                return again
        return result
    from ..face.portrait import load_image

    return read_frames([load_image(path)], detect)


def default_detector() -> Callable[[np.ndarray], Box | None]:
    """The built-in face detector: the largest face's box, or None."""
    from ..runtime.factory import landmark_meter

    analyzer = landmark_meter()

    def detect(rgb: np.ndarray) -> Box | None:
        found = analyzer.detect(rgb)
        return found[0].box if found else None

    return detect


def _video_frames(path, count: int) -> Iterable[np.ndarray]:
    """Up to ``count`` RGB frames spread evenly over the video."""
    import imageio_ffmpeg

    total, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    wanted = set(np.linspace(0, max(total - 1, 0), min(count, max(total, 1))).round().astype(int))
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    try:
        for i, raw in enumerate(reader):
            if i in wanted:
                yield np.frombuffer(raw, np.uint8).reshape(h, w, 3)
            if i >= max(wanted):
                break
    finally:
        reader.close()
