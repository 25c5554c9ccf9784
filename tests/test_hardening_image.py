"""Hardening the portrait path: photos stored turned (EXIF orientation) come out upright, and
files that declare a huge size are refused from their header, before anything is decoded.

The inputs are built here: JPEGs with an EXIF APP1 segment written byte by byte, a PNG with
an ``eXIf`` chunk, a WebP with an ``EXIF`` chunk, and "decompression bombs" whose headers
declare 30000x30000 pixels (a PNG's IHDR, a JPEG's SOF) over a few bytes of data.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE, run_cli

from core.audio import SAMPLE_RATE, load_audio
from core.errors import ImageError
from core.face import exif
from core.face.portrait import MAX_SIDE, declared_size, load_image, read_portrait
from core.runtime.factory import landmark_meter

ORIENTATIONS = range(1, 9)
# Landmarks of the face mesh: the outer eye corners (subject's right, left) and the lips.
RIGHT_EYE, LEFT_EYE, UPPER_LIP, LOWER_LIP = 33, 263, 13, 14


# -- building the inputs -----------------------------------------------------------------
def stored_as(upright: np.ndarray, orientation: int) -> np.ndarray:
    """The pixels a camera stores for a picture seen as ``upright`` when it tags the file
    with ``orientation`` (written with numpy's own turns, independent of core.face.exif)."""
    return {
        1: lambda a: a,
        2: np.fliplr,
        3: lambda a: np.rot90(a, 2),
        4: np.flipud,
        5: lambda a: a.transpose(1, 0, 2),
        6: lambda a: np.rot90(a, 1),  # to be turned 90 degrees clockwise
        7: lambda a: np.rot90(a.transpose(1, 0, 2), 2),
        8: lambda a: np.rot90(a, -1),
    }[orientation](upright).copy()


def exif_tiff(orientation: int, order: str = ">") -> bytes:
    """A TIFF structure as in an EXIF block: IFD0 with Make (its text stored after the IFD),
    Orientation and XResolution (a rational stored after the IFD)."""
    mark = b"MM" if order == ">" else b"II"
    n = 3
    after = 8 + 2 + n * 12 + 4  # where the out-of-line values start
    make = b"Phone\x00"
    entries = [
        struct.pack(order + "HHII", 0x010F, 2, len(make), after),
        struct.pack(order + "HHIHH", 0x0112, 3, 1, orientation, 0),
        struct.pack(order + "HHII", 0x011A, 5, 1, after + len(make)),
    ]
    return (
        mark
        + struct.pack(order + "HI", 42, 8)
        + struct.pack(order + "H", n)
        + b"".join(entries)
        + struct.pack(order + "I", 0)
        + make
        + struct.pack(order + "II", 72, 1)
    )


def jpeg_with_orientation(upright_bgr: np.ndarray, orientation: int, order: str = ">") -> bytes:
    ok, encoded = cv2.imencode(
        ".jpg", stored_as(upright_bgr, orientation), [cv2.IMWRITE_JPEG_QUALITY, 95]
    )
    assert ok
    payload = b"Exif\x00\x00" + exif_tiff(orientation, order)
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    data = encoded.tobytes()
    return data[:2] + app1 + data[2:]  # right after SOI, as cameras write it


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_with_orientation(upright: np.ndarray, orientation: int) -> bytes:
    ok, encoded = cv2.imencode(".png", stored_as(upright, orientation))
    assert ok
    data = encoded.tobytes()
    ihdr_end = 8 + 8 + 13 + 4
    return data[:ihdr_end] + png_chunk(b"eXIf", exif_tiff(orientation, "<")) + data[ihdr_end:]


def webp_with_orientation(upright_bgr: np.ndarray, orientation: int) -> bytes:
    """A lossless WebP in the extended format: VP8X (EXIF flag), VP8L, EXIF."""
    stored = stored_as(upright_bgr, orientation)
    ok, encoded = cv2.imencode(".webp", stored, [cv2.IMWRITE_WEBP_QUALITY, 101])
    assert ok
    data = encoded.tobytes()
    assert data[12:16] == b"VP8L"
    h, w = stored.shape[:2]
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes([0x08, 0, 0, 0])
    vp8x += (w - 1).to_bytes(3, "little") + (h - 1).to_bytes(3, "little")
    body = exif_tiff(orientation)
    chunk = b"EXIF" + struct.pack("<I", len(body)) + body + b"\x00" * (len(body) & 1)
    riff = b"WEBP" + vp8x + data[12:] + chunk
    return b"RIFF" + struct.pack("<I", len(riff)) + riff


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A PNG whose IHDR declares ``width`` x ``height`` RGB pixels over one row of data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * width))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def jpeg_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A small JPEG whose SOF0 is rewritten to declare ``width`` x ``height`` pixels."""
    ok, encoded = cv2.imencode(".jpg", np.full((64, 64, 3), 128, np.uint8))
    data = bytearray(encoded.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.fixture(scope="module")
def upright_bgr() -> np.ndarray:
    """The sample portrait, cut to 448x512 with the face left of centre, so a mirrored or
    turned picture puts the face somewhere else."""
    image = cv2.imread(str(SAMPLE_IMAGE))
    return np.ascontiguousarray(image[:, 64:])


@pytest.fixture(scope="module")
def meter():
    return landmark_meter()


@pytest.fixture(scope="module")
def reference(meter, upright_bgr):
    """The face as analysed in the upright picture."""
    return meter.analyze(cv2.cvtColor(upright_bgr, cv2.COLOR_BGR2RGB), "upright")


# -- reading the orientation -------------------------------------------------------------
@pytest.mark.parametrize("orientation", ORIENTATIONS)
@pytest.mark.parametrize("order", [">", "<"], ids=["big-endian", "little-endian"])
def test_jpeg_orientation_is_read_and_applied(upright_bgr, orientation, order, tmp_path):
    data = jpeg_with_orientation(upright_bgr, orientation, order)
    assert exif.orientation(data) == orientation
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(data)
    portrait = read_portrait(path)
    assert portrait.orientation == orientation
    assert portrait.pixels.shape == (512, 448, 3)  # upright: 448 wide, 512 high
    # OpenCV applies the tag itself when asked for plain 8-bit colour: the same pixels.
    oracle = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(portrait.pixels, cv2.cvtColor(oracle, cv2.COLOR_BGR2RGB))
    error = np.abs(portrait.pixels.astype(int) - upright_bgr[:, :, ::-1]).mean()
    assert error < 3, error
    if orientation == 1:
        assert portrait.notes == []
    else:
        assert portrait.notes == [
            f"o{orientation}.jpg is stored turned (EXIF orientation {orientation}); "
            f"it was {exif.TURNS[orientation]} to stand upright."
        ]


def _deep_png(upright: np.ndarray, orientation: int) -> bytes:
    """16-bit RGBA: alpha and depth must survive the turn."""
    alpha = np.full(upright.shape[:2] + (1,), 65535, np.uint16)
    deep = np.concatenate([upright.astype(np.uint16) * 257, alpha], axis=2)
    return png_with_orientation(deep, orientation)


@pytest.mark.parametrize(
    "name, make, orientation",
    [("deep.png", _deep_png, 8), ("phone.webp", webp_with_orientation, 6)],
    ids=["png-eXIf-16-bit-alpha", "webp-EXIF"],
)
def test_png_and_webp_exif_chunks(upright_bgr, tmp_path, name, make, orientation):
    path = tmp_path / name
    path.write_bytes(make(upright_bgr, orientation))
    portrait = read_portrait(path)
    assert portrait.orientation == orientation
    np.testing.assert_array_equal(portrait.pixels, upright_bgr[:, :, ::-1])


def test_no_exif_or_a_broken_one_leaves_the_picture_as_stored(upright_bgr, tmp_path):
    ok, plain = cv2.imencode(".jpg", upright_bgr)
    assert exif.orientation(plain.tobytes()) == 1
    data = jpeg_with_orientation(upright_bgr, 6)
    start = data.index(b"Exif\x00\x00") + 6
    for broken in (
        data[:start] + b"XX" + data[start + 2 :],  # no byte order
        data.replace(
            struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0), struct.pack(">HHIHH", 0x0112, 3, 1, 9, 0)
        ),
    ):
        assert exif.orientation(broken) == 1
        path = tmp_path / "broken.jpg"
        path.write_bytes(broken)
        assert read_portrait(path).pixels.shape == (448, 512, 3)  # as stored


# -- the whole take, through the command line ---------------------------------------------
@pytest.fixture(scope="module")
def short_clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "half_second.wav"
    sf.write(path, load_audio(SAMPLE_AUDIO)[: SAMPLE_RATE // 2], SAMPLE_RATE)
    return path


@pytest.mark.parametrize("orientation", ORIENTATIONS)
def test_cli_takes_a_turned_photo_upright(
    orientation, upright_bgr, reference, meter, short_clip, tmp_path
):
    image = tmp_path / "phone.jpg"
    image.write_bytes(jpeg_with_orientation(upright_bgr, orientation))
    out = tmp_path / "take"
    done = run_cli("generate", "--image", image, "--audio", short_clip, "--out", out, "--fps", "4")
    assert done.returncode == 0, done.stderr
    record = json.loads((out / "run.json").read_text())
    assert record["inputs"]["image"]["size"] == [448, 512]
    # The face was found where it is in the upright picture (not mirrored, not turned).
    np.testing.assert_allclose(record["face"]["box"], reference.box, atol=6)
    frame = cv2.imread(str(out / "frames" / "frame_000001.png"))
    assert frame.shape == (512, 448, 3)
    face = meter.analyze(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), "frame 1")
    points = face.landmarks
    eyes_y = points[[RIGHT_EYE, LEFT_EYE], 1]
    mouth_y = points[[UPPER_LIP, LOWER_LIP], 1].mean()
    assert (eyes_y < mouth_y - 20).all(), (eyes_y, mouth_y)  # eyes above the mouth
    assert points[RIGHT_EYE, 0] < points[LEFT_EYE, 0]  # the subject's right eye on the left
    np.testing.assert_allclose(face.box, reference.box, atol=8)


def test_run_json_notes_that_the_photo_was_turned(upright_bgr, short_clip, tmp_path):
    image = tmp_path / "phone.jpg"
    image.write_bytes(jpeg_with_orientation(upright_bgr, 6))
    out = tmp_path / "take"
    done = run_cli("generate", "--image", image, "--audio", short_clip, "--out", out, "--fps", "4")
    assert done.returncode == 0, done.stderr
    note = exif.note("phone.jpg", 6)
    assert note in json.loads((out / "run.json").read_text())["face"]["notes"]
    assert note in done.stdout + done.stderr


# -- decompression bombs ------------------------------------------------------------------
BOMBS = {"png": png_bomb, "jpg": jpeg_bomb}


@pytest.mark.parametrize("kind", sorted(BOMBS))
def test_a_huge_declared_size_is_refused_from_the_header(kind, tmp_path):
    data = BOMBS[kind]()
    assert len(data) < 2000
    assert declared_size(data) == (30000, 30000)
    path = tmp_path / f"bomb.{kind}"
    path.write_bytes(data)
    with pytest.raises(ImageError) as caught:
        load_image(path)
    assert str(caught.value) == (
        f"bomb.{kind} is 30000x30000 pixels, larger than the {MAX_SIDE}-pixel limit; "
        "scale it down and retry."
    )


def test_the_limit_is_on_each_side(tmp_path):
    path = tmp_path / "wide.png"
    path.write_bytes(png_bomb(MAX_SIDE + 1, 64))
    with pytest.raises(ImageError, match=f"{MAX_SIDE + 1}x64 pixels, larger than"):
        load_image(path)


def _header_bombs() -> dict[str, bytes]:
    """Other formats OpenCV reads, each declaring 30000x30000 over a few bytes."""
    side = struct.pack("<ii", 30000, 30000)
    bmp = b"BM" + b"\x00" * 12 + struct.pack("<I", 40) + side + b"\x00" * 40
    vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4 + (29999).to_bytes(3, "little") * 2
    webp = b"RIFF" + struct.pack("<I", 4 + len(vp8x)) + b"WEBP" + vp8x
    tiff = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 2)
    tiff += struct.pack("<HHII", 256, 4, 1, 30000) + struct.pack("<HHII", 257, 4, 1, 30000)
    tiff += struct.pack("<I", 0)
    return {
        "bmp": bmp,
        "webp": webp,
        "tif": tiff,
        "ppm": b"P6\n# a comment\n30000 30000\n255\n" + b"\x00" * 30,
        "pfm": b"PF\n30000 30000\n-1\n" + b"\x00" * 30,
        "hdr": b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 30000 +X 30000\n" + b"\x00" * 30,
        "ras": b"\x59\xa6\x6a\x95" + struct.pack(">II", 30000, 30000) + b"\x00" * 24,
        "j2k": b"\xff\x4f\xff\x51\x00\x29\x00\x00" + struct.pack(">IIII", 30000, 30000, 0, 0),
    }


@pytest.mark.parametrize("ext", sorted(_header_bombs()))
def test_other_formats_are_sized_from_their_headers_too(ext, tmp_path):
    path = tmp_path / f"bomb.{ext}"
    path.write_bytes(_header_bombs()[ext])
    with pytest.raises(ImageError, match="30000x30000 pixels, larger than"):
        load_image(path)


@pytest.mark.parametrize(
    "ext", [".png", ".jpg", ".webp", ".tif", ".bmp", ".jp2", ".ppm", ".pgm", ".ras", ".hdr", ".pfm"]
)
def test_every_readable_format_declares_the_size_it_decodes_to(ext):
    picture = np.random.default_rng(3).integers(0, 256, (65, 97, 3)).astype(np.uint8)
    if ext in (".hdr", ".pfm"):
        picture = picture.astype(np.float32) / 255
    if ext == ".pgm":
        picture = picture[:, :, 0]
    ok, encoded = cv2.imencode(ext, picture)
    assert ok
    assert declared_size(encoded.tobytes()) == (97, 65)


def test_a_file_of_no_known_format_is_not_decoded(tmp_path):
    path = tmp_path / "notes.png"
    path.write_bytes(b"GIF89a" + b"\x00" * 100)
    with pytest.raises(ImageError, match="notes.png could not be decoded"):
        load_image(path)


MEMORY_PROBE = """
import resource, sys
from core.errors import ImageError
from core.face.portrait import load_image

load_image(sys.argv[1])  # an ordinary portrait first: decoders and threads are warm
with open("/proc/self/statm") as f:
    pages = int(f.read().split()[0])
budget = pages * resource.getpagesize() + (512 << 20)
resource.setrlimit(resource.RLIMIT_AS, (budget, budget))  # no room for a 2.7 GB decode
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for bomb in sys.argv[2:]:
    try:
        load_image(bomb)
    except ImageError as exc:
        print(exc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) // 1024)
"""


def test_bombs_are_refused_with_little_memory(tmp_path):
    """In a process that cannot grow by more than 512 MiB, both bombs get the size sentence
    (a decoder that allocated 30000x30000 first would fail in another way), and the peak
    resident memory grows by less than 32 MiB."""
    bombs = []
    for kind, make in BOMBS.items():
        bombs.append(tmp_path / f"bomb.{kind}")
        bombs[-1].write_bytes(make())
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE, str(SAMPLE_IMAGE), *map(str, bombs)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *messages, grown_mib = done.stdout.splitlines()
    assert messages == [
        f"{path.name} is 30000x30000 pixels, larger than the {MAX_SIDE}-pixel limit; "
        "scale it down and retry."
        for path in bombs
    ]
    assert int(grown_mib) < 32


def test_cli_refuses_a_bomb_in_one_line_and_writes_nothing(short_clip, tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb())
    out = tmp_path / "take"
    done = run_cli("generate", "--image", bomb, "--audio", short_clip, "--out", out)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: bomb.png is 30000x30000 pixels, larger than the {MAX_SIDE}-pixel limit; "
        "scale it down and retry."
    ]
    assert "Traceback" not in done.stderr
    assert not out.exists()
