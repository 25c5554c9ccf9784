"""Content Credentials: a take's MP4 and its PNG frames are signed by default (offline), read
back by ``verify``, and a change after signing is reported; JPEG frames with
frames signed alone; bad input to ``verify``."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args, without_c2pa

from core import ENGINE_NAME, __version__
from core.cli import main as cli_main
from core.errors import MarkError
from core.marks.credentials import SOURCE_TYPE, Signer, read_credentials, take_facts
from core.marks.keys import CHAIN_ENV, CHAIN_FILE, KEY_ENV, local_key, signing_key
from core.take.settings import Settings


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network for the process (any connect raises and is recorded); the local signing
    key made in a fresh data folder."""
    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("network disabled by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv(CHAIN_ENV, raising=False)
    monkeypatch.delenv(KEY_ENV, raising=False)
    return attempts


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    """A 1-second take with its signed MP4, made through the command line, offline."""
    root = tmp_path_factory.mktemp("marks")
    audio, rate = soundfile.read(SAMPLE_AUDIO)
    voice = root / "voice.wav"
    soundfile.write(voice, audio[:rate], rate)
    mp = pytest.MonkeyPatch()
    attempts: list = []
    mp.setattr(socket.socket, "connect", lambda self, a, *r: attempts.append(a) or 1 / 0)
    mp.setenv("XDG_DATA_HOME", str(root / "data"))
    mp.delenv(CHAIN_ENV, raising=False)
    mp.delenv(KEY_ENV, raising=False)
    try:
        args = generate_args(SAMPLE_IMAGE, voice, root / "take", "--quiet", "--fps", "10")
        code = cli_main([*args, "--video", str(root / "take.mp4")])
    finally:
        mp.undo()
    assert code == 0
    assert attempts == []  # signing never tried the network
    return root


def test_video_credentials_read_back(take, offline, capsys):
    cred = read_credentials(take / "take.mp4")
    assert cred.state == "valid", cred.problems
    assert cred.source_type == SOURCE_TYPE
    assert cred.generator == f"{ENGINE_NAME} {__version__}"
    assert cred.unverified_signer  # a local key: no trust list knows it
    run = json.loads((take / "take" / "run.json").read_text())
    assert run["settings"]["credentials"] is True
    facts = take_facts(run)
    assert cred.take["inputs_sha256"] == dict(facts.inputs)
    assert cred.take["inputs_sha256"]["portrait"] == run["inputs"]["image"]["sha256"]
    assert cred.take["inputs_sha256"]["voice"] == run["inputs"]["audio"]["sha256"]
    assert cred.take["model_pack"]["name"] == run["pack"]["name"]
    assert cred.take_id == facts.take_id
    # The manifest names the watermark the frames carry; verify reads both and compares.
    assert run["watermark"]["payload"] == facts.watermark
    assert cred.watermark_payload == cred.take["watermark_payload"] == facts.watermark
    assert (take / "data" / "talking-head" / "credentials" / CHAIN_FILE).is_file()
    assert cli_main(["verify", str(take / "take.mp4")]) == 0
    out = capsys.readouterr().out
    assert "AI-generated" in out and "unchanged since it was signed" in out
    assert "unverified signer" in out
    assert f"credentials and watermark: agree (take {facts.watermark})" in out
    assert offline == []


def test_changed_video_is_reported(take, offline, tmp_path, capsys):
    changed = tmp_path / "changed.mp4"
    data = bytearray((take / "take.mp4").read_bytes())
    mdat = data.find(b"mdat")
    data[mdat + 200] ^= 0xFF  # one byte of the picture
    changed.write_bytes(bytes(data))
    assert read_credentials(changed).state == "changed"
    assert cli_main(["verify", str(changed)]) == 1
    assert "CHANGED after it was signed" in capsys.readouterr().out


def test_frame_signed_and_changed(take, offline, tmp_path):
    facts = take_facts(json.loads((take / "take" / "run.json").read_text()))
    signer = Signer(signing_key(), facts)
    frame = tmp_path / "frame.png"
    frame.write_bytes(without_c2pa((take / "take" / "frames" / "frame_000001.png").read_bytes()))
    assert read_credentials(frame).state == "none"
    signer.sign_file(frame)
    cred = read_credentials(frame)
    assert cred.state == "valid" and cred.take_id == facts.take_id
    assert cred.source_type == SOURCE_TYPE
    data = bytearray(frame.read_bytes())
    idat = data.find(b"IDAT")
    data[idat + 100] ^= 0x01
    frame.write_bytes(bytes(data))
    assert read_credentials(frame).state == "changed"
    jpeg = tmp_path / "frame.jpg"
    import cv2

    cv2.imwrite(str(jpeg), cv2.imread(str(take / "take" / "frames" / "frame_000001.png")))
    signer.sign_file(jpeg)
    assert read_credentials(jpeg).state == "valid"
    assert offline == []


def test_verify_cross_checks_manifest_and_watermark(take, offline, tmp_path, capsys):
    """The payload the credentials name against the one read from the picture: another
    take's payload is reported as a disagreement (exit 1), an unmarked picture under
    credentials that name one as unread, credentials that name none as such."""
    from dataclasses import replace

    from core.marks.verify import verify_file, verify_take

    facts = take_facts(json.loads((take / "take" / "run.json").read_text()))
    assert facts.watermark is not None
    other = "f" * len(facts.watermark) if facts.watermark != "f" * 10 else "0" * 10
    cases = {
        "agree": (take / "take" / "frames" / "frame_000003.png", facts, 0),
        "disagree": (
            take / "take" / "frames" / "frame_000003.png",
            replace(facts, watermark=other),
            1,
        ),
        "no watermark read": (SAMPLE_IMAGE, facts, 0),
        "credentials name none": (SAMPLE_IMAGE, replace(facts, watermark=None), 0),
    }
    for name, (source, case_facts, code) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.png"
        path.write_bytes(without_c2pa(source.read_bytes()))  # the take's own manifest off
        Signer(signing_key(), case_facts).sign_file(path)
        result = verify_file(path)
        assert result.credentials.state == "valid", result.credentials.problems
        assert result.agreement == name and result.code == code, name
        assert cli_main(["verify", str(path)]) == code
        out = capsys.readouterr().out
        assert "credentials and watermark: " in out
    assert (
        "credentials and watermark: DISAGREE"
        in verify_file(tmp_path / "disagree.png").agreement_line()
    )
    assert other in verify_file(tmp_path / "disagree.png").agreement_line()
    # A take's folder (the panel's Verify Take): its middle frame, and run.json's payload.
    checked = verify_take(take / "take")
    assert checked.path.name == "frame_000006.png" and checked.credentials.state == "valid"
    assert checked.credentials.watermark_payload == facts.watermark and checked.agreement == "agree"
    assert checked.watermark == checked.recorded == facts.watermark and checked.code == 0
    assert f"run.json: watermark payload {facts.watermark} (matches" in checked.lines()[-1]
    assert verify_take(take / "take", frame=99).path.name == "frame_000010.png"
    assert offline == []


def test_local_key_is_kept_and_configured_key_used(offline, tmp_path, monkeypatch):
    first = local_key(tmp_path / "k")
    assert local_key(tmp_path / "k").chain_pem == first.chain_pem  # made once, then kept
    assert (tmp_path / "k" / "signing-key.pem").stat().st_mode & 0o077 == 0
    monkeypatch.setenv(CHAIN_ENV, str(tmp_path / "k" / CHAIN_FILE))
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "k" / "signing-key.pem"))
    configured = signing_key()
    assert not configured.local and configured.chain_pem == first.chain_pem
    monkeypatch.setenv(KEY_ENV, str(tmp_path / "missing.pem"))
    with pytest.raises(MarkError, match="cannot be read"):
        signing_key()


def test_verify_bad_input(take, tmp_path, capsys):
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    cases = [tmp_path / "missing.mp4", not_image, take / "take" / "run.json"]
    for path in cases:
        assert cli_main(["verify", str(path)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: "), err
    unsigned = tmp_path / "plain.png"
    shutil.copy(SAMPLE_IMAGE, unsigned)
    assert cli_main(["verify", str(unsigned)]) == 3
    assert "no Content Credentials" in capsys.readouterr().out


def test_no_credentials_switch(tmp_path, offline):
    audio, rate = soundfile.read(SAMPLE_AUDIO)
    voice = tmp_path / "voice.wav"
    soundfile.write(voice, audio[: rate // 2], rate)
    args = generate_args(SAMPLE_IMAGE, voice, tmp_path / "t", "--quiet", "--fps", "10")
    assert cli_main([*args, "--no-credentials", "--video", str(tmp_path / "t.mp4")]) == 0
    assert read_credentials(tmp_path / "t.mp4").state == "none"
    run = json.loads((tmp_path / "t" / "run.json").read_text())
    assert run["settings"]["credentials"] is False
    for frame in sorted((tmp_path / "t" / "frames").glob("*.png")):
        assert b"caBX" not in frame.read_bytes()[:200] and read_credentials(frame).state == "none"


PORTRAITS = [
    SAMPLE_IMAGE,
    *(Path(__file__).parent / "data" / "portraits" / n for n in ("sad.png", "art_1.png")),
]


def _luminance(rgb) -> float:
    """WCAG relative luminance of an sRGB colour (0-255)."""
    c = np.asarray(rgb, np.float64) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


@pytest.mark.parametrize("path", PORTRAITS, ids=lambda p: p.stem)
def test_label_away_from_face_and_legible(path):
    import cv2

    from core.marks.label import Label
    from core.runtime.factory import landmark_meter

    image = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    face = landmark_meter().detect(image)[0].box
    label = Label(image, face)
    x0, y0, x1, y1 = label.rect
    h, w = image.shape[:2]
    assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h
    assert x1 <= face[0] or x0 >= face[2] or y1 <= face[1] or y0 >= face[3]  # off the face
    assert (x1 - x0) * (y1 - y0) < 0.05 * w * h  # small
    out = label(image.copy())
    changed = np.abs(out.astype(int) - image).sum(2) > 0
    ys, xs = np.nonzero(changed)
    assert ys.min() >= y0 and ys.max() < y1 and xs.min() >= x0 and xs.max() < x1  # only there
    # Legible: the text's ink against what lies under the label, WCAG contrast >= 3.
    region = image[y0:y1, x0:x1].reshape(-1, 3)
    bg = _luminance(np.median(region, 0))
    ink = _luminance(label.ink)
    assert (max(bg, ink) + 0.05) / (min(bg, ink) + 0.05) >= 3.0
    # The ink is the portrait's own tone: one of its colours, not a foreign one.
    assert np.min(np.abs(image.reshape(-1, 3).astype(float) - label.ink).sum(1)) < 30


def test_label_switch(tmp_path, offline):
    import cv2

    from core.marks.label import Label
    from core.runtime.factory import landmark_meter

    audio, rate = soundfile.read(SAMPLE_AUDIO)
    voice = tmp_path / "voice.wav"
    soundfile.write(voice, audio[: rate // 2], rate)
    args = generate_args(SAMPLE_IMAGE, voice, tmp_path / "t", "--quiet", "--fps", "10")
    assert cli_main([*args, "--no-credentials", "--label"]) == 0
    run = json.loads((tmp_path / "t" / "run.json").read_text())
    assert run["settings"]["label"] is True
    image = cv2.cvtColor(cv2.imread(str(SAMPLE_IMAGE)), cv2.COLOR_BGR2RGB)
    expected = Label(image, landmark_meter().detect(image)[0].box)
    x0, y0, x1, y1 = expected.rect
    for name in ("frame_000001.png", "frame_000005.png"):
        frame = cv2.cvtColor(cv2.imread(str(tmp_path / "t" / "frames" / name)), cv2.COLOR_BGR2RGB)
        assert np.array_equal(frame[y0:y1, x0:x1], expected(image.copy())[y0:y1, x0:x1])
    assert Settings().label is False  # off unless asked for


def test_png_frames_signed_by_default(take, offline, capsys):
    """Every PNG frame of a take carries a valid manifest, signed as it was written, with
    the facts its MP4's manifest names; a frame changed afterwards reads as changed;
    verify also reads its watermark and finds it agrees."""
    run = json.loads((take / "take" / "run.json").read_text())
    assert run["settings"]["credentials"] is True
    frames = sorted((take / "take" / "frames").glob("*.png"))
    assert len(frames) == 10
    facts = take_facts(run)
    video = read_credentials(take / "take.mp4")
    for frame in frames:
        cred = read_credentials(frame)
        assert cred.state == "valid", cred.problems
        assert cred.take_id == facts.take_id == video.take_id
        assert cred.source_type == SOURCE_TYPE
        assert cred.take == video.take  # the same facts as the video's manifest
        assert cred.watermark_payload == run["watermark"]["payload"]
    assert cli_main(["verify", str(frames[2])]) == 0
    out = capsys.readouterr().out
    assert "unchanged since it was signed" in out
    assert f"credentials and watermark: agree (take {run['watermark']['payload']})" in out
    changed = take / "changed.png"
    data = bytearray(frames[2].read_bytes())
    data[data.find(b"IDAT") + 100] ^= 0x01
    changed.write_bytes(bytes(data))
    assert read_credentials(changed).state == "changed"
    assert cli_main(["verify", str(changed)]) == 1
    assert offline == []


def test_jpeg_frames_signed_by_default(tmp_path, offline):
    """JPEG frames carry a manifest too (APP11 segments right after SOI, signed as they are
    written); with --no-credentials they do not; a changed one reads as changed."""
    audio, rate = soundfile.read(SAMPLE_AUDIO)
    voice = tmp_path / "voice.wav"
    soundfile.write(voice, audio[: rate // 2], rate)
    base = ["--quiet", "--fps", "10", "--frame-format", "jpeg"]
    for name, flags in (("signed", []), ("plain", ["--no-credentials"])):
        args = generate_args(SAMPLE_IMAGE, voice, tmp_path / name, *base, *flags)
        assert cli_main([*args]) == 0
    run = json.loads((tmp_path / "signed" / "run.json").read_text())
    assert run["settings"]["credentials"] is True
    facts = take_facts(run)
    frames = sorted((tmp_path / "signed" / "frames").glob("*.jpg"))
    assert len(frames) == 5
    for frame in frames:
        cred = read_credentials(frame)
        assert cred.state == "valid", cred.problems
        assert cred.take_id == facts.take_id and cred.source_type == SOURCE_TYPE
    for frame in sorted((tmp_path / "plain" / "frames").glob("*.jpg")):
        assert read_credentials(frame).state == "none"
    changed = tmp_path / "changed.jpg"
    data = bytearray(frames[1].read_bytes())
    data[-200] ^= 0x01  # in the entropy-coded picture
    changed.write_bytes(bytes(data))
    assert read_credentials(changed).state == "changed"
    assert Settings().credentials is True  # frames and videos: on
    assert offline == []
