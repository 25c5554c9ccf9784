"""Phonemes -> visemes -> ARKit mouth shapes: the tables the lip sync blends between.

Each viseme is a mouth pose (jaw opening, lip rounding, spreading, lower-lip tuck) and two
dominance weights, after Cohen and Massaro's coarticulation model: how strongly the segment
holds the jaw and how strongly it holds the lips against its neighbours. Bilabials and
labiodentals hold the lips hard; t, d, k, s, h hold the jaw but let the lips take the
neighbouring vowel's rounding ("k" in "coo" is round), which is how animators key them.
Phones are ARPAbet, as PocketSphinx's English model names them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The per-viseme parameters; lipsync turns them into ARKit channels.
PARAMS = ("open", "funnel", "pucker", "spread", "tuck")


@dataclass(frozen=True)
class Viseme:
    name: str
    pose: tuple[float, float, float, float, float]  # PARAMS, 0..1
    jaw_dominance: float
    lip_dominance: float
    closed: bool = False  # lips must meet (p, b, m)


VISEMES = {
    v.name: v
    for v in (
        Viseme("rest", (0.0, 0.0, 0.0, 0.0, 0.0), 1.0, 1.0),
        Viseme("MBP", (0.0, 0.0, 0.0, 0.0, 0.0), 3.0, 3.0, closed=True),
        Viseme("FV", (0.06, 0.0, 0.0, 0.05, 0.75), 3.0, 2.5),
        Viseme("TH", (0.15, 0.0, 0.0, 0.1, 0.0), 1.2, 1.0),
        Viseme("TDN", (0.14, 0.0, 0.0, 0.1, 0.0), 1.0, 0.35),
        Viseme("KG", (0.18, 0.0, 0.0, 0.05, 0.0), 0.8, 0.3),
        Viseme("SZ", (0.09, 0.0, 0.0, 0.2, 0.0), 1.5, 0.5),
        Viseme("SH", (0.12, 0.45, 0.3, 0.0, 0.0), 1.2, 1.5),
        Viseme("L", (0.22, 0.0, 0.0, 0.1, 0.0), 0.8, 0.4),
        Viseme("R", (0.15, 0.3, 0.35, 0.0, 0.0), 0.8, 1.0),
        Viseme("W", (0.12, 0.4, 0.75, 0.0, 0.0), 1.0, 2.0),
        Viseme("Y", (0.12, 0.0, 0.0, 0.35, 0.0), 0.8, 0.8),
        Viseme("HH", (0.3, 0.0, 0.0, 0.0, 0.0), 0.15, 0.15),
        Viseme("AA", (0.62, 0.05, 0.0, 0.0, 0.0), 1.0, 1.0),
        Viseme("AE", (0.5, 0.0, 0.0, 0.3, 0.0), 1.0, 1.0),
        Viseme("AH", (0.42, 0.0, 0.0, 0.05, 0.0), 1.0, 0.8),
        Viseme("AO", (0.5, 0.35, 0.15, 0.0, 0.0), 1.0, 1.0),
        Viseme("EH", (0.38, 0.0, 0.0, 0.25, 0.0), 1.0, 1.0),
        Viseme("ER", (0.22, 0.3, 0.25, 0.0, 0.0), 1.0, 1.0),
        Viseme("IH", (0.3, 0.0, 0.0, 0.3, 0.0), 1.0, 1.0),
        Viseme("IY", (0.26, 0.0, 0.0, 0.5, 0.0), 1.0, 1.2),
        Viseme("UH", (0.28, 0.4, 0.4, 0.0, 0.0), 1.0, 1.2),
        Viseme("UW", (0.26, 0.55, 0.8, 0.0, 0.0), 1.0, 1.5),
    )
}

# ARPAbet phone -> viseme names; diphthongs glide from the first to the second half.
PHONE_VISEMES: dict[str, tuple[str, ...]] = {
    "SIL": ("rest",),
    "P": ("MBP",),
    "B": ("MBP",),
    "M": ("MBP",),
    "F": ("FV",),
    "V": ("FV",),
    "TH": ("TH",),
    "DH": ("TH",),
    "T": ("TDN",),
    "D": ("TDN",),
    "N": ("TDN",),
    "K": ("KG",),
    "G": ("KG",),
    "NG": ("KG",),
    "S": ("SZ",),
    "Z": ("SZ",),
    "SH": ("SH",),
    "ZH": ("SH",),
    "CH": ("SH",),
    "JH": ("SH",),
    "L": ("L",),
    "R": ("R",),
    "W": ("W",),
    "Y": ("Y",),
    "HH": ("HH",),
    "AA": ("AA",),
    "AE": ("AE",),
    "AH": ("AH",),
    "AO": ("AO",),
    "EH": ("EH",),
    "ER": ("ER",),
    "IH": ("IH",),
    "IY": ("IY",),
    "UH": ("UH",),
    "UW": ("UW",),
    "AW": ("AA", "UH"),
    "AY": ("AA", "IH"),
    "EY": ("EH", "IY"),
    "OW": ("AO", "UW"),
    "OY": ("AO", "IY"),
}


def phone_visemes(phone: str) -> tuple[Viseme, ...]:
    """Visemes for an ARPAbet phone (stress digits ignored; unknown phones rest)."""
    name = phone.upper().rstrip("012")
    return tuple(VISEMES[v] for v in PHONE_VISEMES.get(name, ("rest",)))
