"""marks.frame_signing: a PNG signed through libc2pa's data-hash calls (ctypes on
c2pa-python's loaded library) reads back valid with the take's facts, a change after
signing reads as changed, each frame has its own manifest, and the fallback to
``Builder.sign`` when the library lacks those calls. Offline: no network is tried."""

from __future__ import annotations

import socket
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import without_c2pa
from PIL import Image

from core.errors import MarkError
from core.marks.credentials import SOURCE_TYPE, TakeFacts, read_credentials
from core.marks.frame_signing import FrameSigner, native_library
from core.marks.keys import local_key
from core.take.png import encode_png

FACTS = TakeFacts(
    "0123456789abcdef",
    {"name": "pack", "profile": "p"},
    {"portrait": "a" * 64},
    "2026-01-01",
    "c0ffee",
)


@pytest.fixture
def key(tmp_path, monkeypatch):
    attempts: list = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, a, *r: attempts.append(a) or 1 / 0)
    yield local_key(tmp_path / "key")
    assert attempts == []  # signing never tried the network


RGB = np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8)


def _png() -> bytes:
    return encode_png(RGB, {"Software": "test"})


def test_png_signed_valid_and_changed(key, tmp_path: Path):
    assert native_library() is not None  # c2pa-python 0.38.0, as requirements.txt pins
    signer = FrameSigner(key, FACTS)
    assert signer.method == "data hash"
    plain = _png()
    signed = signer.sign(plain)
    assert signed[12:16] == b"IHDR" and signed[37:41] == b"caBX"  # right after IHDR
    assert without_c2pa(signed) == plain
    path = tmp_path / "frame.png"
    path.write_bytes(signed)
    cred = read_credentials(path)
    assert cred.state == "valid", cred.problems
    assert cred.take_id == FACTS.take_id and cred.source_type == SOURCE_TYPE
    assert cred.watermark_payload == "c0ffee"
    with Image.open(path) as im:  # still a PNG to other readers, the same pixels
        assert np.array_equal(np.asarray(im.convert("RGB")), RGB)
    # One Builder signs many frames; each manifest is its own (instance id, signature).
    again = signer.sign(plain)
    assert again != signed and len(again) == len(signed) and without_c2pa(again) == plain
    bad = bytearray(signed)
    bad[bad.find(b"IDAT") + 50] ^= 1
    path.write_bytes(bytes(bad))
    assert read_credentials(path).state == "changed"


def test_errors_are_mark_errors(key):
    signer = FrameSigner(key, FACTS)
    with pytest.raises(MarkError, match="not a PNG"):
        signer.sign(b"GIF89a not a png at all, not at all")
    signer._builder = types.SimpleNamespace(_handle=None)  # a null builder: the library refuses
    with pytest.raises(MarkError, match=r"could not be added to a frame \(.+\)"):
        signer.sign(_png())


def test_fallback_without_the_data_hash_calls(key, tmp_path: Path, monkeypatch):
    """Another c2pa-python whose library lacks the calls: frames are still signed, through
    ``Builder.sign`` (slower)."""
    from c2pa import c2pa as bindings

    with monkeypatch.context() as mp:  # Builder.sign itself needs the real library
        mp.setattr(bindings, "_lib", types.SimpleNamespace(c2pa_free=None))
        assert native_library() is None
        signer = FrameSigner(key, FACTS)
    assert signer.method == "Builder.sign"
    path = tmp_path / "frame.png"
    path.write_bytes(signer.sign(_png()))
    cred = read_credentials(path)
    assert cred.state == "valid" and cred.take_id == FACTS.take_id


def test_jpeg_and_png_pieces_signed(key, tmp_path: Path):
    """A JPEG frame: the manifest's APP11 segments right after SOI, valid, and a change in
    the picture reads as changed. A PNG given as pieces (the frame writer's way) comes back
    as pieces that join to a valid file."""
    from core.take.frames import encode_jpeg

    signer = FrameSigner(key, FACTS, "frame.jpg", "image/jpeg")
    plain = encode_jpeg(RGB, {"Software": "test"})
    signed = signer.sign(plain)
    assert signed[:2] == b"\xff\xd8" and signed[2:4] == b"\xff\xeb"  # SOI, then APP11
    path = tmp_path / "frame.jpg"
    path.write_bytes(signed)
    assert read_credentials(path).state == "valid"
    changed = bytearray(signed)
    changed[-100] ^= 0x01
    path.write_bytes(bytes(changed))
    assert read_credentials(path).state == "changed"
    png = _png()
    pieces = FrameSigner(key, FACTS).sign([png[:40], png[40:1000], png[1000:]])
    assert isinstance(pieces, list)
    path = tmp_path / "pieces.png"
    path.write_bytes(b"".join(pieces))
    assert read_credentials(path).state == "valid" and without_c2pa(b"".join(pieces)) == png
