"""An invisible watermark in the face region of every frame: the take's payload, re-readable.

Why this design (two earlier ones failed: see README "Responsible use"): it must survive
an H.264 re-encode, halving and a crop to the face, and stay under the PSNR bound.

- Where: a *grid* of ``GRID`` x ``GRID`` cells over a square of ``SQUARE`` times the
  portrait's face box. A cell is 2^(j/4) pixels and the grid's corner lies on a whole
  number of cells from the frame's corner, so a re-encoded or halved frame keeps the grid
  on a lattice a reader can enumerate (no search for a fraction of a cell); only a crop
  needs that search (see ``watermark_read``).
- How: spread-transform dither modulation (STDM). Each bit moves the frame's projection on
  one smooth, band-limited key pattern (at most a quarter cycle per cell: it survives
  halving and H.264) onto the even or odd half of a lattice of step ``delta``. The frame's
  own content is part of the projection, so the face's texture does not outvote the mark
  (it did for additive spread spectrum at the same strength); the reader's soft bits are
  host-free once the grid is found.
- What: 40 bits of the take's identity (``take_payload``) and a CRC-24, so a reader knows
  when it has read right, even after trying thousands of grids.

Deterministic (a fixed public key; no randomness per run): a take made again renders the
same bytes. Added to R, G and B alike, after the renderer, in every frame, at the step
that keeps the whole frame's PSNR >= ``TARGET_PSNR``. Per frame: one area-average of the
face square to 64 x 64, two small matrix products, one resize and a saturated add.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

GRID = 64  # cells per side of the canonical face square
PAYLOAD_BITS = 40
CRC_BITS = 24
N_BITS = PAYLOAD_BITS + CRC_BITS
KEY_SEED = 0x7A1C_2017  # public: the mark says "made by this engine", it is not a secret
BAND = (0.04, 0.25)  # cycles per cell of the key patterns
# Quantisation steps a take may use (strongest first); a reader tries each.
DELTAS = (64.0, 48.0, 36.0, 26.0, 18.0)
TARGET_PSNR = 46.0  # whole-frame, against the unmarked frame (the bound is 45)
MAX_REGION_RMS = 3.0  # grey levels: never stronger than this in the face square
_Y = np.array([0.299, 0.587, 0.114], np.float32)


@dataclass(frozen=True)
class Key:
    """The fixed patterns: ``bits`` [N_BITS, GRID*GRID] orthonormal rows, ``dither``
    [N_BITS] in 0..1 (fractions of the step)."""

    bits: np.ndarray
    dither: np.ndarray


def _band_limited(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random GRID x GRID patterns band-passed to BAND, tapered at the square's edge
    (no visible seam where the mark ends)."""
    fy = np.fft.fftfreq(GRID)[:, None]
    fx = np.fft.fftfreq(GRID)[None, :]
    r = np.hypot(fx, fy)
    lo, hi = BAND
    mask = np.clip((r - lo * 0.5) / (lo * 0.5), 0, 1) * np.clip((hi - r) / (hi * 0.25), 0, 1)
    noise = rng.standard_normal((n, GRID, GRID))
    out = np.real(np.fft.ifft2(np.fft.fft2(noise) * mask))
    edge = np.minimum(np.arange(GRID), np.arange(GRID)[::-1]) + 0.5
    taper = np.clip(edge / 6.0, 0, 1)
    taper = np.sin(taper * np.pi / 2) ** 2
    return out * (taper[:, None] * taper[None, :])


@lru_cache(maxsize=1)
def key() -> Key:
    """The engine's watermark key (made once per process, always the same)."""
    rng = np.random.default_rng(KEY_SEED)
    raw = _band_limited(rng, N_BITS + 1).reshape(N_BITS + 1, -1)
    q, _ = np.linalg.qr(raw.T)  # orthonormal columns spanning the same band
    bits = q[:, :N_BITS].T.copy()
    dither = rng.random(N_BITS)
    return Key(bits.astype(np.float32), dither)


# -- payload coding -----------------------------------------------------------------------


def crc24(bits: np.ndarray) -> np.ndarray:
    """CRC-24 (OpenPGP's polynomial) of a bit array, as 24 bits, most significant first.
    24 bits: a reader tries thousands of grids and steps on a cropped frame, and a 16-bit
    check let one of them pass by chance in about one frame in ten."""
    reg = 0xB704CE
    for b in bits.astype(int):
        top = ((reg >> 23) & 1) ^ int(b)
        reg = (reg << 1) & 0xFFFFFF
        if top:
            reg ^= 0x864CFB
    return np.array([(reg >> (23 - i)) & 1 for i in range(24)], np.uint8)


def payload_bits(payload: str) -> np.ndarray:
    """The N_BITS to embed for a payload of PAYLOAD_BITS / 4 hex digits."""
    value = int(payload, 16)
    data = np.array([(value >> (PAYLOAD_BITS - 1 - i)) & 1 for i in range(PAYLOAD_BITS)], np.uint8)
    return np.concatenate([data, crc24(data)])


def bits_payload(bits: np.ndarray) -> str | None:
    """The payload's hex digits when the CRC checks, else None."""
    data, check = bits[:PAYLOAD_BITS], bits[PAYLOAD_BITS:]
    if not np.array_equal(crc24(data), check):
        return None
    value = 0
    for b in data.astype(int):
        value = (value << 1) | int(b)
    return f"{value:0{PAYLOAD_BITS // 4}x}"


def payload_of(take_id: str) -> str:
    """A take's watermark payload: the first PAYLOAD_BITS of its identity (hex)."""
    return take_id[: PAYLOAD_BITS // 4].ljust(PAYLOAD_BITS // 4, "0")


# -- geometry -----------------------------------------------------------------------------
# The grid's cells are 2^(j/4) pixels (j an integer) and its corner lies on a multiple of a
# cell from the frame's origin: halving the frame, or re-encoding it, leaves a grid that a
# reader finds without searching for a fraction of a cell. Only a crop moves the grid off
# that lattice, and a reader then tries sub-cell offsets too.
SQUARE = 1.3  # the marked square's side over the detected face box's longer side


def cell_size(j: int) -> float:
    return float(2.0 ** (j / 4))


def cell_index(side: float) -> int:
    """The j whose grid (GRID cells of 2^(j/4) px) is nearest ``side`` pixels."""
    return int(round(4 * np.log2(max(side, GRID) / GRID)))


def face_grid(
    box: tuple[float, float, float, float], size: tuple[int, int]
) -> tuple[int, int, int]:
    """(j, column, row) of the marked grid for a face ``box`` (x0, y0, x1, y1, pixel edges)
    in a frame of ``size`` (width, height): SQUARE times the box's longer side, centred on
    it, on the lattice of its cell size, inside the frame (smaller when it must be)."""
    w, h = size
    j = cell_index(SQUARE * max(box[2] - box[0], box[3] - box[1]))
    while j > 0 and GRID * cell_size(j) > min(w, h):
        j -= 1
    cell = cell_size(j)
    side = GRID * cell
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    col = int(np.clip(round((cx - side / 2) / cell), 0, np.floor((w - side) / cell)))
    row = int(np.clip(round((cy - side / 2) / cell), 0, np.floor((h - side) / cell)))
    return j, col, row


def area_weights(n: int, start: float, cell: float, length: int, block: int = 1) -> np.ndarray:
    """[n, length] weights averaging pixels (or blocks of ``block`` pixels, of which there
    are ``length``) over n cells of ``cell`` pixels from ``start`` (pixel edges): each cell
    the exact area mean of what it covers, cells partly outside averaging the part inside."""
    e0 = start + np.arange(n)[:, None] * cell
    b0 = np.arange(length)[None, :] * block
    w = np.clip(np.minimum(e0 + cell, b0 + block) - np.maximum(e0, b0), 0, None)
    total = w.sum(1, keepdims=True)
    return (w / np.where(total > 0, total, 1)).astype(np.float32)


def sample_cells(luma: np.ndarray, x0: float, y0: float, cell: float, n: int) -> np.ndarray:
    """[n, n] area means of cells of ``cell`` pixels whose first corner is at (x0, y0)
    (pixel edges); cells wholly outside the image are 0."""
    h, w = luma.shape
    c0, c1 = max(0, int(np.floor(x0))), min(w, int(np.ceil(x0 + n * cell)))
    r0, r1 = max(0, int(np.floor(y0))), min(h, int(np.ceil(y0 + n * cell)))
    if c1 <= c0 or r1 <= r0:
        return np.zeros((n, n), np.float32)
    wx = area_weights(n, x0 - c0, cell, c1 - c0)
    wy = area_weights(n, y0 - r0, cell, r1 - r0)
    return wy @ np.ascontiguousarray(luma[r0:r1, c0:c1], np.float32) @ wx.T


def strength(side: float, size: tuple[int, int], target_psnr: float = TARGET_PSNR) -> float:
    """The strongest step in DELTAS whose expected distortion keeps the frame's PSNR at
    ``target_psnr`` (the mark covers side^2 of the frame's pixels)."""
    w, h = size
    budget = 255.0**2 / 10 ** (target_psnr / 10) * (w * h) / min(side**2, w * h)
    budget = min(budget, MAX_REGION_RMS**2)
    for delta in DELTAS:
        if N_BITS * delta**2 / 12 / GRID**2 + 1 / 12 <= budget:
            return delta
    return DELTAS[-1]


# -- embedding ----------------------------------------------------------------------------


class Watermark:
    """Embeds ``payload`` in frames of ``size`` (width, height) whose face is at ``box``;
    a callable on RGB uint8 frames (in place when writable), for ``apply.MarkedRenderer``."""

    def __init__(self, payload: str, box: tuple[float, float, float, float], size: tuple[int, int]):
        self.payload = payload
        w, h = size
        self.j, col, row = face_grid(box, size)
        self.cell = cell = cell_size(self.j)
        x0, y0, side = col * cell, row * cell, GRID * cell
        # The pixels measured: whole blocks of ``q`` pixels (averaged first, which is
        # exact for area means and four times cheaper at q = 2) covering the grid.
        self.q = q = max(1, int(cell // 2))
        self.xa, self.ya = int(np.floor(x0 / q)) * q, int(np.floor(y0 / q)) * q
        nx = min(int(np.ceil((x0 + side - self.xa) / q)), (w - self.xa) // q)
        ny = min(int(np.ceil((y0 + side - self.ya) / q)), (h - self.ya) // q)
        self.xb, self.yb = self.xa + nx * q, self.ya + ny * q
        self.wx = area_weights(GRID, x0 - self.xa, cell, nx, q)
        self.wy = area_weights(GRID, y0 - self.ya, cell, ny, q)
        # Where the mark is drawn: the grid's square, to the nearest pixel.
        self.draw_at = (int(round(x0)) - self.xa, int(round(y0)) - self.ya)
        self.draw_size = min(
            int(round(side)),
            self.xb - self.xa - self.draw_at[0],
            self.yb - self.ya - self.draw_at[1],
        )
        self.delta = strength(side, size)
        k = key()
        self.u = k.bits  # [N, G*G]
        self.dither = k.dither * self.delta + payload_bits(payload) * self.delta / 2
        # What drawing a cell pattern and measuring it back does to each projection (a
        # little blur): inverted so that the projections land on the lattice.
        basis = np.stack([self._measure(self._draw(row)) for row in self.u])
        self.correct = np.linalg.inv(self.u @ basis.T).astype(np.float32)  # [N, N]

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The pixels the mark may change (x0, y0, x1, y1)."""
        return self.xa, self.ya, self.xb, self.yb

    def _measure(self, luma: np.ndarray) -> np.ndarray:
        if self.q > 1:
            size = ((self.xb - self.xa) // self.q, (self.yb - self.ya) // self.q)
            luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
        return (self.wy @ luma @ self.wx.T).reshape(-1)

    def _draw(self, cells: np.ndarray) -> np.ndarray:
        out = np.zeros((self.yb - self.ya, self.xb - self.xa), np.float32)
        (x, y), n = self.draw_at, self.draw_size
        pattern = cells.reshape(GRID, GRID).astype(np.float32)
        out[y : y + n, x : x + n] = cv2.resize(pattern, (n, n), interpolation=cv2.INTER_LINEAR)
        return out

    def __call__(self, frame: np.ndarray) -> np.ndarray:
        region = frame[self.ya : self.yb, self.xa : self.xb]
        luma = cv2.cvtColor(region, cv2.COLOR_RGB2GRAY).astype(np.float32)
        x = self.u @ self._measure(luma)
        step = self.delta
        target = np.round((x - self.dither) / step) * step + self.dither
        move = self.correct @ (target - x).astype(np.float32)
        add = np.rint(self._draw(self.u.T @ move)).astype(np.int16)
        h, w = add.shape
        flat = region.reshape(h, w * 3)  # a view: the frame's rows are contiguous
        cv2.add(flat, np.repeat(add, 3, axis=1), dst=flat, dtype=cv2.CV_8U)
        return frame


def take_payload(run: dict) -> str:
    """A take's watermark payload (PAYLOAD_BITS / 4 hex digits) from its ``run.json``
    object: a hash of what made its frames (the inputs' sha256, the settings, the engine
    version, the model pack), never of the time or the folder, so the same take made
    again renders the same bytes (and carries the same mark)."""
    import hashlib
    import json

    inputs = run.get("inputs", {}) or {}
    hashes = {k: v.get("sha256") for k, v in inputs.items() if isinstance(v, dict)}
    settings = {k: v for k, v in (run.get("settings") or {}).items() if k != "overwrite"}
    pack = run.get("pack") or {}
    identity = [
        hashes,
        settings,
        (run.get("engine") or {}).get("version"),
        {k: pack.get(k) for k in ("name", "profile", "version")},
    ]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode())
    return digest.hexdigest()[: PAYLOAD_BITS // 4]
