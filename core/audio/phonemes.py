"""English phoneme timings from speech, with PocketSphinx (the only module that imports it).

The ``pocketsphinx`` wheel ships CMU's US-English acoustic model and a phone language model,
so phone recognition works offline with no download (Rhubarb Lip Sync's "phonetic" route).
It runs in allphone mode: no words, no dictionary, just the most likely phone sequence with
times, which is what lip sync needs. Long recordings are decoded in pieces cut at their
quietest moments, so the decoder's memory stays bounded and no phone is split.

PocketSphinx: BSD-2-Clause-style license, Copyright Carnegie Mellon University.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import SAMPLE_RATE

PIECE_S = 30.0  # longest stretch handed to the decoder in one utterance
CUT_SEARCH_S = 3.0  # a cut is placed at the quietest 10 ms within this much before the limit
MIN_LAST_PIECE_S = 1.0  # a shorter rest is not cut off: the last piece is that much longer
DECODER_HZ = 100  # PocketSphinx's frame rate (10 ms frames)
# Allphone decoding with the bundled phone bigram; wide beams cost little at 10 ms frames and
# keep short consonants (measured real-time factor ~0.05 on one core).
DECODER_OPTIONS = {"lw": 2.0, "beam": 1e-20, "pbeam": 1e-20, "allphone_ci": True}


@dataclass(frozen=True)
class Phone:
    """One recognised phone: ARPAbet name (``SIL`` for silence and noise) and times in s."""

    name: str
    start: float
    end: float


def availability() -> str | None:
    """None when phonetic recognition can run here, else one sentence saying why not."""
    try:
        import pocketsphinx
    except ImportError as exc:  # pragma: no cover - depends on the installation
        return f"PocketSphinx is not installed ({exc}); the acoustic lip sync was used."
    from pathlib import Path

    model = Path(pocketsphinx.get_model_path("en-us"))
    if not (model / "en-us-phone.lm.bin").is_file() or not (model / "en-us").is_dir():
        return (
            f"PocketSphinx's English model is missing from {model}; the acoustic lip sync was used."
        )
    return None


def _decoder():
    from pocketsphinx import Decoder, get_model_path

    return Decoder(
        hmm=get_model_path("en-us/en-us"),
        allphone=get_model_path("en-us/en-us-phone.lm.bin"),
        samprate=SAMPLE_RATE,
        loglevel="FATAL",
        **DECODER_OPTIONS,
    )


def _cut_points(samples: np.ndarray, sr: int) -> list[int]:
    """Sample indices where to split: the quietest 10 ms before each PIECE_S limit."""
    n = len(samples)
    hop = sr // DECODER_HZ
    cuts, start = [0], 0
    limit = int(PIECE_S * sr)
    search = int(CUT_SEARCH_S * sr)
    # A rest shorter than MIN_LAST_PIECE_S stays with the piece before it: the decoder finds
    # nothing in a piece under ~30 ms, and a phone cut off there would be lost.
    while n - start > limit + int(MIN_LAST_PIECE_S * sr):
        lo, hi = start + limit - search, start + limit
        seg = samples[lo:hi]
        m = len(seg) // hop
        energy = np.square(seg[: m * hop].reshape(m, hop)).sum(1)
        cut = lo + int(np.argmin(energy)) * hop + hop // 2
        cuts.append(cut)
        start = cut
    cuts.append(n)
    return cuts


def recognize(
    samples: np.ndarray, sr: int = SAMPLE_RATE, progress: Callable[[float], None] | None = None
) -> list[Phone]:
    """Phones with start/end times (s) for mono float ``samples`` at 16 kHz.

    ``progress(fraction)`` is called after each piece. A piece too short to hold a phone
    (under ~30 ms, where PocketSphinx returns no segmentation at all) gives none.
    """
    if sr != SAMPLE_RATE:
        raise ValueError(f"Phone recognition needs {SAMPLE_RATE} Hz audio, got {sr} Hz.")
    x = np.asarray(samples, np.float32)
    decoder = _decoder()
    phones: list[Phone] = []
    cuts = _cut_points(x, sr)
    for a, b in zip(cuts[:-1], cuts[1:], strict=True):
        if b > a:  # the decoder refuses an empty buffer
            pcm = (np.clip(x[a:b], -1.0, 1.0) * 32767.0).astype(np.int16).tobytes()
            decoder.start_utt()
            decoder.process_raw(pcm, full_utt=True)
            decoder.end_utt()
            phones += _phones(decoder.seg(), a / sr, b / sr)
        if progress is not None:
            progress(b / max(len(x), 1))
    return phones


def _phones(segments, offset: float, end_s: float) -> list[Phone]:
    """The decoder's segments of one piece as phones; ``segments`` is None when the piece
    was too short to decode."""
    phones: list[Phone] = []
    for seg in segments or ():
        name = seg.word.upper()
        name = name if name.isalpha() and name != "NSN" else "SIL"  # +SPN+, +NSN+ ...
        start = offset + seg.start_frame / DECODER_HZ
        end = min(offset + (seg.end_frame + 1) / DECODER_HZ, end_s)
        if end > start:
            phones.append(Phone(name, start, end))
    return phones
