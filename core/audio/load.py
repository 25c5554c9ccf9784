"""Audio input: load any common file (WAV, FLAC, OGG, MP3) as 16 kHz mono float32.

Bad input is refused up front with an :class:`~core.errors.AudioError` that tells the user
what to fix; the header is read first, so an over-long file is refused before decoding.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from ..errors import AudioError

SAMPLE_RATE = 16000
"""Sample rate (Hz) of everything :func:`load_audio` returns."""

MAX_DURATION_S = 3600.0
"""Longest recording :func:`load_audio` accepts by default (one hour)."""

SILENCE_PEAK_DBFS = -60.0
"""A recording whose peak is below this level counts as silent."""

_READ_BLOCK = 1 << 18  # samples per channel read at a time while decoding
_DECODE_ERRORS = (sf.SoundFileError, RuntimeError, ValueError, EOFError)


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, read without decoding the samples."""

    path: Path
    frames: int
    samplerate: int
    channels: int
    format: str

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate


def _corrupt(path: Path) -> AudioError:
    return AudioError(
        f"Audio file could not be decoded: {path}; it may be damaged or in an unsupported "
        "format, so convert it to WAV, FLAC, OGG or MP3 and try again."
    )


def _unreadable(path: Path, exc: OSError) -> AudioError:
    return AudioError(
        f"Audio file cannot be read: {path} ({exc.strerror or exc}); check its permissions."
    )


def _check_file(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    try:
        if p.is_dir():
            raise AudioError(f"Audio file not found: {p} is a folder, not a file; choose the file.")
        if not p.is_file():
            raise AudioError(f"Audio file not found: {p}; check the path.")
        size = p.stat().st_size
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    if size == 0:
        raise AudioError(f"Audio file is empty (0 bytes): {p}; choose a recording with sound.")
    return p


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header of ``path``; raises :class:`AudioError` if missing, empty or corrupt."""
    p = _check_file(path)
    try:
        info = sf.info(str(p))
    except _DECODE_ERRORS as exc:
        raise _corrupt(p) from exc
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    if info.samplerate <= 0 or info.channels <= 0 or info.frames < 0:
        raise _corrupt(p)
    return AudioInfo(
        path=p,
        frames=int(info.frames),
        samplerate=int(info.samplerate),
        channels=int(info.channels),
        format=str(info.format),
    )


def _read_mono(info: AudioInfo) -> np.ndarray:
    """Decode in blocks, mixing to mono as we go so memory stays at one mono copy."""
    p = info.path
    out = np.empty(info.frames, dtype=np.float32)
    extra: list[np.ndarray] = []
    filled = 0
    try:
        with sf.SoundFile(str(p)) as f:
            while True:
                block = f.read(_READ_BLOCK, dtype="float32", always_2d=True)
                if block.shape[0] == 0:
                    break
                mono = block.mean(axis=1, dtype=np.float32)
                if not np.isfinite(mono).all():
                    raise _corrupt(p)
                room = max(0, info.frames - filled)
                take = min(room, mono.shape[0])
                out[filled : filled + take] = mono[:take]
                filled += take
                if take < mono.shape[0]:
                    extra.append(mono[take:])
    except _DECODE_ERRORS as exc:
        raise _corrupt(p) from exc
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    if extra:
        return np.concatenate([out[:filled], *extra])
    return out[:filled]


def load_audio(
    path: str | os.PathLike[str],
    *,
    allow_silent: bool = False,
    max_duration_s: float = MAX_DURATION_S,
) -> np.ndarray:
    """Load WAV/FLAC/OGG/MP3 at any rate and channel count as mono float32 at 16 kHz.

    Raises :class:`AudioError` for a missing, empty, corrupt, too long or (unless
    ``allow_silent``) silent file. The duration is checked from the header before decoding.
    """
    info = probe_audio(path)
    p = info.path
    if info.frames == 0:
        raise AudioError(f"Audio file contains no samples: {p}; choose a recording with sound.")
    if info.duration_s > max_duration_s:
        raise AudioError(
            f"Audio file is too long: {p} lasts {info.duration_s:.1f} s but the limit is "
            f"{max_duration_s:g} s; split it into shorter pieces."
        )
    mono = _read_mono(info)
    if mono.size == 0:
        raise AudioError(f"Audio file contains no samples: {p}; choose a recording with sound.")
    peak = float(np.max(np.abs(mono)))
    if not allow_silent and peak < 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
        raise AudioError(
            f"Audio file contains only silence (peak below {SILENCE_PEAK_DBFS:g} dBFS): {p}; "
            "choose a recording with speech."
        )
    if info.samplerate != SAMPLE_RATE:
        g = math.gcd(info.samplerate, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, info.samplerate // g)
    return np.ascontiguousarray(mono, dtype=np.float32)
