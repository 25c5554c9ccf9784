"""Paths, fixtures and helpers shared by the tests.

Every input the tests need is in the repository: the bundled samples in ``samples/`` and the
test inputs in ``tests/data/`` (see ``tests/data/README.md`` for where each file comes from).
Test modules import the constants and helpers from here (``from conftest import ...``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
SAMPLES = REPO / "samples"
SHARED_DATA = REPO.parent / "shared" / "data"

SAMPLE_IMAGE = SAMPLES / "astronaut.png"
SAMPLE_AUDIO = SAMPLES / "speech.wav"
PORTRAITS_DIR = DATA / "portraits"
PAUSES_AUDIO = DATA / "audio" / "espeak_pauses.wav"
SAD_IMAGE = PORTRAITS_DIR / "sad.png"


def portrait_path(name: str) -> Path:
    """A test portrait by name, with or without ``.png``: ``astronaut`` is the bundled sample,
    the others (art_1, art_16, full_body_1, happy, people_0, sad) are in tests/data/portraits."""
    stem = name.removesuffix(".png")
    return SAMPLE_IMAGE if stem == "astronaut" else PORTRAITS_DIR / f"{stem}.png"


def shared_path(relative: str | Path) -> Path:
    """A file under ``<repo>/../shared/data``: extra real data (talking videos, more
    portraits) too large to commit. The repository is self-contained, so nothing the suite
    must prove depends on it: when the file is absent (a fresh clone, CI) the test is
    skipped, saying so."""
    path = SHARED_DATA / relative
    if path.is_file():
        return path
    pytest.skip(f"{path} is not present (extra data from <repo>/../shared/data)")


def speech_clip(path: Path, seconds: float) -> Path:
    """The bundled sample speech's first ``seconds`` written to ``path``: a short voice for
    a take (module fixtures call it with a temporary folder of their own)."""
    import soundfile

    from core.audio import SAMPLE_RATE, load_audio

    soundfile.write(path, load_audio(SAMPLE_AUDIO)[: int(seconds * SAMPLE_RATE)], SAMPLE_RATE)
    return path


def generate_args(image: str | Path, audio: str | Path, out: str | Path, *flags) -> list[str]:
    """The arguments of ``python -m core generate`` for a portrait, a voice and a take."""
    return [
        "generate",
        "--image",
        str(image),
        "--audio",
        str(audio),
        "--out",
        str(out),
        *map(str, flags),
    ]


def run_cli(*args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m core ARGS`` in a subprocess from the repository root, as users run it."""
    return subprocess.run(
        [sys.executable, "-m", "core", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session", autouse=True)
def signing_key_folder(tmp_path_factory):
    """Takes are signed by default (PNG frames, videos): the local signing key is made in
    a folder of the test session, never in the user's own data folder."""
    mp = pytest.MonkeyPatch()
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("data")))
    yield
    mp.undo()


@pytest.fixture
def espeak_pauses() -> Path:
    """9.6 s of espeak-ng speech with silences of 1.2 s and 0.8 s (tests/data/audio)."""
    return PAUSES_AUDIO


def without_c2pa(data: bytes) -> bytes:
    """A PNG file's bytes without its ``caBX`` chunks (the signed C2PA manifest).

    Frames are signed by default, and a manifest differs on every run (signing time,
    instance id, signature) while the picture does not: determinism tests compare the
    bytes outside that chunk (the pixels, the text chunks, every other byte)."""
    import struct

    out, pos = [data[:8]], 8
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 12 + length
        if data[pos + 4 : pos + 8] != b"caBX":
            out.append(data[pos:end])
        pos = end
    out.append(data[pos:])
    return b"".join(out)
