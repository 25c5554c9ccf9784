"""Audio input: load any common file (WAV, FLAC, OGG, MP3) as 16 kHz mono float32.

Bad input is refused up front with an :class:`~core.errors.AudioError` that tells the user
what to fix; the header is read first, so an over-long file is refused before decoding.
A pipe (``--audio <(sox ...)``, ``/dev/stdin``) is read whole into memory first, up to what
an hour of its audio can take. A file that holds less audio than its header announces (a
cut-off download or copy) is loaded as far as it goes, with a note that says so.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

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

TRUNCATED_MIN_S = 0.1
"""A file missing at least this much of the audio its header announces gets a note."""

_READ_BLOCK = 1 << 18  # samples per channel read at a time while decoding
_SALVAGE_BLOCK = 1 << 10  # ... and once damaged data is met, to keep what comes before it
_DECODE_ERRORS = (sf.SoundFileError, RuntimeError, ValueError, EOFError)
_STREAM_HEAD = 1 << 16  # bytes of a pipe read before its header is looked at
_STREAM_BLOCK = 1 << 20
_STREAM_SLACK = 1 << 20  # bytes a pipe may carry besides the audio (headers, tags)
_STREAM_FALLBACK_BYTES_PER_S = 384_000  # Ogg: its start does not say its rate
_WAV_PLACEHOLDER = 0x7FFF0000  # data sizes from here up mean "length unknown" (streamed WAV)
_WAV_PCM_FORMATS = {1, 3, 6, 7, 0xFFFE}  # PCM, float, A-law, mu-law, extensible


@dataclass(frozen=True)
class AudioInfo:
    """What the file header says, read without decoding the samples."""

    path: Path
    frames: int  # sample frames the file holds (as far as the header and file size tell)
    samplerate: int
    channels: int
    format: str
    declared_frames: int | None = None  # what a WAV header announces, where it is more
    data: bytes | None = field(default=None, repr=False, compare=False)  # a pipe's bytes

    @property
    def duration_s(self) -> float:
        return self.frames / self.samplerate


@dataclass(frozen=True, eq=False)
class LoadedAudio:
    """Samples from :func:`read_audio` with what the user should know about the file."""

    samples: np.ndarray  # mono float32 at SAMPLE_RATE
    info: AudioInfo
    notes: list[str] = field(default_factory=list)  # one sentence each, e.g. truncation
    sha256: str | None = None  # of the bytes read from a pipe (a pipe cannot be read twice)


@dataclass(frozen=True)
class _WavLayout:
    audio_format: int
    byte_rate: int
    block_align: int
    data_size: int | None  # bytes the data chunk announces; None before it is reached


def _corrupt(path: Path) -> AudioError:
    return AudioError(
        f"Audio file could not be decoded: {path}; it may be damaged or in an unsupported "
        "format, so convert it to WAV, FLAC, OGG or MP3 and try again."
    )


def _unreadable(path: Path, exc: OSError) -> AudioError:
    return AudioError(
        f"Audio file cannot be read: {path} ({exc.strerror or exc}); check its permissions."
    )


def _empty(path: Path) -> AudioError:
    return AudioError(f"Audio file is empty (0 bytes): {path}; choose a recording with sound.")


def _check_file(path: str | os.PathLike[str]) -> tuple[Path, bool]:
    """The path, and whether it is a stream (a pipe or device) rather than a regular file."""
    p = Path(path)
    try:
        if p.is_dir():
            raise AudioError(f"Audio file not found: {p} is a folder, not a file; choose the file.")
        if not p.exists():
            raise AudioError(f"Audio file not found: {p}; check the path.")
        st = p.stat()
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    if stat.S_ISFIFO(st.st_mode) or stat.S_ISCHR(st.st_mode):
        return p, True
    if not stat.S_ISREG(st.st_mode):
        raise AudioError(f"Audio file not found: {p} is not a file or a pipe; choose the file.")
    if st.st_size == 0:
        raise _empty(p)
    return p, False


def _wav_layout(fh: BinaryIO) -> _WavLayout | None:
    """The format and data chunk size of a RIFF WAVE file, read from its chunk headers."""
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    audio_format = byte_rate = block_align = 0
    pos = 12
    while True:
        fh.seek(pos)
        chunk = fh.read(8)
        if len(chunk) < 8:
            return _WavLayout(audio_format, byte_rate, block_align, None)
        size = int.from_bytes(chunk[4:], "little")
        if chunk[:4] == b"fmt ":
            body = fh.read(min(size, 16))
            if len(body) >= 14:
                audio_format = int.from_bytes(body[0:2], "little")
                byte_rate = int.from_bytes(body[8:12], "little")
                block_align = int.from_bytes(body[12:14], "little")
        elif chunk[:4] == b"data":
            return _WavLayout(audio_format, byte_rate, block_align, size)
        pos += 8 + size + (size & 1)


def _declared_frames(layout: _WavLayout | None) -> int | None:
    """Frames a PCM WAV's data chunk announces; None for a streamed WAV's placeholder size."""
    if layout is None or layout.data_size is None or layout.block_align <= 0:
        return None
    if layout.audio_format not in _WAV_PCM_FORMATS:
        return None
    if not 0 < layout.data_size < _WAV_PLACEHOLDER:
        return None
    return layout.data_size // layout.block_align


def _read_stream(p: Path, max_duration_s: float) -> bytes:
    """All bytes of a pipe, refusing one that carries more than ``max_duration_s`` of audio."""
    try:
        with p.open("rb") as fh:
            head = fh.read(_STREAM_HEAD)
            layout = _wav_layout(io.BytesIO(head))
            if layout is not None and layout.byte_rate > 0:
                per_s = layout.byte_rate
            else:
                try:
                    info = sf.info(io.BytesIO(head))
                    per_s = 4 * info.samplerate * info.channels  # float samples or less
                except _DECODE_ERRORS as exc:
                    if not head.startswith(b"OggS"):  # Ogg needs its end to be opened
                        raise _corrupt(p) from exc
                    per_s = _STREAM_FALLBACK_BYTES_PER_S
            limit = int(max_duration_s * per_s) + _STREAM_SLACK
            chunks, size = [head], len(head)
            while block := fh.read(_STREAM_BLOCK):
                size += len(block)
                if size > limit:
                    raise AudioError(
                        f"Audio stream is too long: {p} sends more than {limit / 1e6:.0f} MB, "
                        f"more than {max_duration_s:g} s of audio; split it into shorter pieces."
                    )
                chunks.append(block)
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    data = b"".join(chunks)
    if not data:
        raise _empty(p)
    return data


def probe_audio(
    path: str | os.PathLike[str], *, max_duration_s: float = MAX_DURATION_S
) -> AudioInfo:
    """Read the header of ``path``; raises :class:`AudioError` if missing, empty or corrupt.

    A pipe is read whole into memory (refused past ``max_duration_s`` of audio) and its
    bytes kept in :attr:`AudioInfo.data` for decoding."""
    p, is_stream = _check_file(path)
    data = _read_stream(p, max_duration_s) if is_stream else None
    try:
        if data is not None:
            info = sf.info(io.BytesIO(data))
            layout = _wav_layout(io.BytesIO(data))
        else:
            with p.open("rb") as fh:
                layout = _wav_layout(fh)
            info = sf.info(str(p))
    except _DECODE_ERRORS as exc:
        raise _corrupt(p) from exc
    except OSError as exc:
        raise _unreadable(p, exc) from exc
    if info.samplerate <= 0 or info.channels <= 0 or info.frames < 0:
        raise _corrupt(p)
    declared = _declared_frames(layout)
    return AudioInfo(
        path=p,
        frames=int(info.frames),
        samplerate=int(info.samplerate),
        channels=int(info.channels),
        format=str(info.format),
        declared_frames=declared if declared is not None and declared > info.frames else None,
        data=data,
    )


def _read_mono(info: AudioInfo) -> tuple[np.ndarray, bool]:
    """Decode in blocks, mixing to mono as we go so memory stays at one mono copy.

    Returns the samples and whether decoding stopped early on damaged data after some
    audio (a cut-off FLAC or MP3): from the first damaged block on, the file is read again in
    small blocks up to the damage. Damage before any audio is refused as corrupt."""
    p = info.path
    out = np.empty(info.frames, dtype=np.float32)
    extra: list[np.ndarray] = []
    filled = read = 0
    block_len = _READ_BLOCK
    cut_short = False
    source = io.BytesIO(info.data) if info.data is not None else str(p)
    try:
        with sf.SoundFile(source) as f:
            while True:
                try:
                    block = f.read(block_len, dtype="float32", always_2d=True)
                except _DECODE_ERRORS:
                    if block_len == _SALVAGE_BLOCK or not f.seekable():
                        if read == 0:
                            raise
                        cut_short = True
                        break
                    block_len = _SALVAGE_BLOCK
                    f.seek(read)
                    continue
                if block.shape[0] == 0:
                    break
                read += block.shape[0]
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
        return np.concatenate([out[:filled], *extra]), cut_short
    return out[:filled], cut_short


def _truncation_note(info: AudioInfo, frames: int, cut_short: bool) -> str | None:
    """One sentence when the file holds less audio than its header announces."""
    announced = max(info.frames, info.declared_frames or 0)
    if announced - frames < TRUNCATED_MIN_S * info.samplerate:
        return None
    have, want = frames / info.samplerate, announced / info.samplerate
    how = "is truncated or damaged" if cut_short else "is truncated"
    return (
        f"Audio file {info.path} {how}: its header announces {want:.2f} s but only "
        f"{have:.2f} s could be read, so the take is {have:.2f} s long."
    )


def read_audio(
    path: str | os.PathLike[str],
    *,
    allow_silent: bool = False,
    max_duration_s: float = MAX_DURATION_S,
) -> LoadedAudio:
    """:func:`load_audio` with notes for the user (a truncated file) and a pipe's sha256."""
    info = probe_audio(path, max_duration_s=max_duration_s)
    p = info.path
    if info.frames == 0:
        raise AudioError(f"Audio file contains no samples: {p}; choose a recording with sound.")
    if info.duration_s > max_duration_s:
        raise AudioError(
            f"Audio file is too long: {p} lasts {info.duration_s:.1f} s but the limit is "
            f"{max_duration_s:g} s; split it into shorter pieces."
        )
    mono, cut_short = _read_mono(info)
    if mono.size == 0:
        raise AudioError(f"Audio file contains no samples: {p}; choose a recording with sound.")
    peak = float(np.max(np.abs(mono)))
    if not allow_silent and peak < 10.0 ** (SILENCE_PEAK_DBFS / 20.0):
        raise AudioError(
            f"Audio file contains only silence (peak below {SILENCE_PEAK_DBFS:g} dBFS): {p}; "
            "choose a recording with speech."
        )
    note = _truncation_note(info, mono.size, cut_short)
    if info.samplerate != SAMPLE_RATE:
        g = math.gcd(info.samplerate, SAMPLE_RATE)
        mono = resample_poly(mono, SAMPLE_RATE // g, info.samplerate // g)
    return LoadedAudio(
        np.ascontiguousarray(mono, dtype=np.float32),
        info,
        [note] if note else [],
        hashlib.sha256(info.data).hexdigest() if info.data is not None else None,
    )


def load_audio(
    path: str | os.PathLike[str],
    *,
    allow_silent: bool = False,
    max_duration_s: float = MAX_DURATION_S,
) -> np.ndarray:
    """Load WAV/FLAC/OGG/MP3 at any rate and channel count as mono float32 at 16 kHz.

    Raises :class:`AudioError` for a missing, empty, corrupt, too long or (unless
    ``allow_silent``) silent file. The duration is checked from the header before decoding.
    ``path`` may be a pipe; :func:`read_audio` also says when the file is truncated.
    """
    return read_audio(path, allow_silent=allow_silent, max_duration_s=max_duration_s).samples
