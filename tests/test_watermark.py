"""The invisible watermark: on three portraits it stays under the PSNR bound and its payload
is read back after an H.264 re-encode at CRF 23, halving and a crop to the face; a take
carries it by default (run.json says so), ``verify`` reads it from a frame and a video, and
``--no-watermark`` turns it off; the mark is deterministic."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
import soundfile
from conftest import PORTRAITS_DIR, SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args

from core.cli import main as cli_main
from core.face.portrait import load_image
from core.marks.watermark import Watermark, bits_payload, payload_bits
from core.marks.watermark_read import default_detector, read_file, read_frames
from core.take.video import ffmpeg_exe

PAYLOAD = "5aa312fea7"


def _portraits():
    return [SAMPLE_IMAGE, PORTRAITS_DIR / "art_1.png", PORTRAITS_DIR / "people_0.png"]


@pytest.fixture(scope="module")
def detect():
    return default_detector()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / mse)


def h264(rgb: np.ndarray, tmp_path, crf: int = 23) -> np.ndarray:
    """``rgb`` through libx264 (yuv420p, CRF ``crf``) and back."""
    h, w = rgb.shape[:2]
    video = tmp_path / "attack.mp4"
    encode = [ffmpeg_exe(), "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24"]
    encode += ["-s", f"{w}x{h}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p"]
    encode += ["-crf", str(crf), "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2", str(video)]
    subprocess.run(encode, input=rgb.tobytes(), check=True)
    decode = [ffmpeg_exe(), "-loglevel", "error", "-i", str(video), "-f", "rawvideo"]
    raw = subprocess.run([*decode, "-pix_fmt", "rgb24", "-"], capture_output=True, check=True)
    hh, ww = h + h % 2, w + w % 2
    return np.frombuffer(raw.stdout, np.uint8).reshape(-1, hh, ww, 3)[0, :h, :w]


def half(rgb: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.resize(rgb, (rgb.shape[1] // 2, rgb.shape[0] // 2), interpolation=cv2.INTER_AREA)


def crop_to_face(rgb: np.ndarray, box, margin: float = 0.25) -> np.ndarray:
    """The face box with ``margin`` of its size around it (a head crop)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    a, b = int(max(0, x0 - margin * w)), int(max(0, y0 - margin * h))
    return np.ascontiguousarray(rgb[b : int(y1 + margin * h), a : int(x1 + margin * w)])


def test_payload_coding():
    bits = payload_bits(PAYLOAD)
    assert bits_payload(bits) == PAYLOAD
    for i in (0, 20, len(bits) - 1):  # any one bit wrong: the CRC says so
        bad = bits.copy()
        bad[i] ^= 1
        assert bits_payload(bad) is None


@pytest.mark.parametrize("portrait", _portraits(), ids=lambda p: p.stem)
def test_survives_reencode_half_and_crop(portrait, detect, tmp_path):
    image = load_image(portrait)
    box = detect(image)
    h, w = image.shape[:2]
    mark = Watermark(PAYLOAD, box, (w, h))
    marked = mark(image.copy())
    assert psnr(marked, image) >= 45.0
    assert np.array_equal(marked, mark(image.copy()))  # deterministic
    truth = payload_bits(PAYLOAD)
    attacks = {
        "none": marked,
        "h264 crf 23": h264(marked, tmp_path),
        "half size": half(marked),
        "crop to the face": crop_to_face(marked, box),
    }
    for name, frame in attacks.items():
        result = read_frames([frame], detect)
        assert result.payload == PAYLOAD, name
        assert result.bits is not None and np.array_equal(result.bits, truth), name
    assert read_frames([image], detect).payload is None  # an unmarked portrait reads nothing


@pytest.fixture(scope="module")
def takes(tmp_path_factory):
    """Two 1-second takes of the sample (10 fps), with and without the watermark."""
    root = tmp_path_factory.mktemp("watermark")
    audio, rate = soundfile.read(SAMPLE_AUDIO)
    voice = root / "voice.wav"
    soundfile.write(voice, audio[:rate], rate)
    base = ["--quiet", "--fps", "10", "--no-credentials"]
    marked = generate_args(SAMPLE_IMAGE, voice, root / "marked", *base)
    assert cli_main([*marked, "--video", str(root / "marked.mp4")]) == 0
    plain = generate_args(SAMPLE_IMAGE, voice, root / "plain", *base, "--no-watermark")
    assert cli_main(plain) == 0
    return root


def test_take_is_marked_by_default(takes, capsys):
    run = json.loads((takes / "marked" / "run.json").read_text())
    assert run["settings"]["watermark"] is True
    payload = run["watermark"]["payload"]
    assert len(payload) == 10
    plain = json.loads((takes / "plain" / "run.json").read_text())
    assert plain["settings"]["watermark"] is False and "watermark" not in plain
    frames = sorted((takes / "marked" / "frames").glob("*.png"))
    unmarked = sorted((takes / "plain" / "frames").glob("*.png"))
    assert len(frames) == len(unmarked) == 10
    worst = min(psnr(load_image(a), load_image(b)) for a, b in zip(frames, unmarked, strict=True))
    assert worst >= 45.0
    assert read_file(frames[4]).payload == payload
    assert read_file(takes / "marked.mp4").payload == payload
    assert cli_main(["verify", str(frames[4])]) == 0
    assert f"take {payload}" in capsys.readouterr().out
    assert cli_main(["verify", str(unmarked[4])]) == 3
    assert "watermark: none found" in capsys.readouterr().out
