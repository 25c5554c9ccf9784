"""Regenerate ``tests/data/lipsync_syllables.wav`` and its ``.json`` of known phoneme times.

Each item ("pa", "ama", "oo", ...) is spoken on its own by espeak-ng through its C library,
which reports where every phoneme starts in the audio it synthesises; the items are placed
at known offsets with silence between them, resampled to 16 kHz mono and written with the
phoneme list (espeak-ng mnemonics and times in seconds). Needs ``libespeak-ng.so.1``
(Debian package ``espeak-ng``); the tests only read the committed output.

    .venv/bin/python tools/make_lipsync_audio.py
"""

from __future__ import annotations

import ctypes as C
import json
import math
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parents[1]
OUT_WAV = ROOT / "tests" / "data" / "lipsync_syllables.wav"
ITEMS = ("pa", "ma", "ba", "oo", "ee", "apa", "ama", "aba", "oomoo", "eebee", "mama papa")
GAP_S = 0.5  # silence between items
RATE_WPM = 150
SR_OUT = 16000
BILABIALS = ("p", "b", "m")
QUIET_DB = 25.0  # a voiceless closure is this far below the item's peak level
_PHONEME_EVENT, _END_OF_LIST = 7, 0


class _Id(C.Union):
    _fields_ = [("number", C.c_int), ("name", C.c_char_p), ("string", C.c_char * 8)]


class _Event(C.Structure):
    _fields_ = [
        ("type", C.c_int),
        ("unique_identifier", C.c_uint),
        ("text_position", C.c_int),
        ("length", C.c_int),
        ("audio_position", C.c_int),
        ("sample", C.c_int),
        ("user_data", C.c_void_p),
        ("id", _Id),
    ]


_Callback = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_short), C.c_int, C.POINTER(_Event))


class Espeak:
    """Synchronous espeak-ng synthesis that also returns phoneme start times."""

    def __init__(self, voice: str = "en-us"):
        self.lib = C.CDLL("libespeak-ng.so.1")
        self.sr = self.lib.espeak_Initialize(2, 0, None, 1)  # synchronous, phoneme events
        self.lib.espeak_SetVoiceByName(voice.encode())
        self.lib.espeak_SetParameter(1, RATE_WPM, 0)  # espeakRATE
        self._samples: list[int] = []
        self._events: list[tuple[str, int]] = []
        self._cb = _Callback(self._collect)
        self.lib.espeak_SetSynthCallback(self._cb)

    def _collect(self, wav, n, events) -> int:
        if wav and n > 0:
            self._samples.extend(wav[:n])
        i = 0
        while events[i].type != _END_OF_LIST:
            if events[i].type == _PHONEME_EVENT:
                self._events.append((events[i].id.string.decode(), events[i].sample))
            i += 1
        return 0

    def say(self, text: str) -> tuple[np.ndarray, list[tuple[str, float]]]:
        self._samples, self._events = [], []
        data = text.encode()
        self.lib.espeak_Synth(data, len(data) + 1, 0, 0, 0, 0, None, None)
        self.lib.espeak_Synchronize()
        audio = np.array(self._samples, np.float32) / 32768.0
        return audio, [(p, s / self.sr) for p, s in self._events]


def _closure(wave: np.ndarray, ph: dict) -> list[float]:
    """When the lips are shut for a bilabial, in seconds.

    espeak-ng's event for b and m starts with the closure (voiced murmur); for p it marks
    the release, and the closure is the near-silent gap just before it, found here by
    stepping back 5 ms at a time while the level stays ``QUIET_DB`` below the item's peak.
    """
    if ph["phoneme"] != "p":
        return [ph["start"], ph["end"]]
    hop = SR_OUT // 200
    peak = float(np.sqrt(np.mean(np.square(wave)) + 1e-12)) * 4

    def level(t: float) -> float:
        seg = wave[int(t * SR_OUT) : int(t * SR_OUT) + hop]
        return 20 * np.log10(np.sqrt(np.mean(np.square(seg)) + 1e-12) / peak)

    t = ph["start"] - hop / SR_OUT
    while t > ph["start"] - 0.2 and level(t) < -QUIET_DB:
        t -= hop / SR_OUT
    return [round(t + hop / SR_OUT, 4), ph["start"]]


def main() -> None:
    tts = Espeak()
    pieces, phonemes, items = [], [], []
    t = GAP_S
    pieces.append(np.zeros(int(GAP_S * tts.sr), np.float32))
    for text in ITEMS:
        audio, events = tts.say(text)
        items.append({"text": text, "start": round(t, 4), "end": round(t + len(audio) / tts.sr, 4)})
        for k, (name, start) in enumerate(events):
            end = events[k + 1][1] if k + 1 < len(events) else len(audio) / tts.sr
            if name.startswith("_") or end <= start:
                continue  # pauses
            phonemes.append(
                {
                    "phoneme": name,
                    "start": round(t + start, 4),
                    "end": round(t + end, 4),
                    "item": text,
                }
            )
        pieces += [audio, np.zeros(int(GAP_S * tts.sr), np.float32)]
        t += (len(audio) + int(GAP_S * tts.sr)) / tts.sr
    wave = np.concatenate(pieces)
    g = math.gcd(tts.sr, SR_OUT)
    wave = resample_poly(wave, SR_OUT // g, tts.sr // g).astype(np.float32)
    for ph in phonemes:
        if ph["phoneme"] in BILABIALS:
            ph["closure"] = _closure(wave, ph)
    OUT_WAV.parent.mkdir(parents=True, exist_ok=True)
    sf.write(OUT_WAV, wave, SR_OUT, subtype="PCM_16")
    meta = {
        "source": "espeak-ng 1.51 voice en-us, rate 150 wpm, phoneme events from "
        "libespeak-ng (tools/make_lipsync_audio.py)",
        "sample_rate": SR_OUT,
        "duration_s": round(len(wave) / SR_OUT, 4),
        "items": items,
        "phonemes": phonemes,
    }
    OUT_WAV.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{OUT_WAV}: {len(wave) / SR_OUT:.2f} s, {len(phonemes)} phonemes")


if __name__ == "__main__":
    main()
