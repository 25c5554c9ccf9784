"""core.take.rerender: only frames whose motion changed are rendered again, atomically, and
signed as the take's others are; and the JPEG / OpenEXR frame formats of a take."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from conftest import without_c2pa

from core.audio import SAMPLE_RATE, load_audio
from core.errors import VasaError
from core.marks.credentials import read_credentials, take_facts
from core.motion.track import MotionTrack
from core.runtime.factory import landmark_meter
from core.take.frames import frame_name
from core.take.generate import generate
from core.take.record import STAGING_DIR, TakeFolder
from core.take.rerender import changed_frames, rerender
from core.take.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLE_IMAGE = REPO / "samples" / "astronaut.png"
SAMPLE_AUDIO = REPO / "samples" / "speech.wav"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def digests(take: Path) -> dict[str, str]:
    return {p.name: digest(p) for p in sorted((take / "frames").iterdir())}


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "one_second.wav"
    sf.write(path, load_audio(SAMPLE_AUDIO)[:SAMPLE_RATE], SAMPLE_RATE)
    return path


@pytest.fixture()
def take(tmp_path: Path, clip: Path) -> Path:
    out = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=12))
    return out


def head_yaw_measured(path: Path) -> float:
    """Horizontal offset of the nose tip from the face-box centre, in face widths."""
    rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    face = landmark_meter().analyze(rgb, path.name)
    xs = face.landmarks[:, 0]
    return float((face.landmarks[1, 0] - (xs.min() + xs.max()) / 2) / (xs.max() - xs.min()))


def test_changed_frames_finds_exactly_the_edited_rows():
    old = MotionTrack.neutral(10, 25.0)
    new = MotionTrack(old.fps, old.channels, old.data.copy())
    new["head_yaw"][3:6] = 8.0
    new["jawOpen"][8] = 0.5
    assert changed_frames(old, new) == [3, 4, 5, 8]
    tiny = MotionTrack(old.fps, old.channels, old.data + 1e-6)
    assert changed_frames(old, tiny) == []
    with pytest.raises(VasaError, match="frames"):
        changed_frames(old, MotionTrack.neutral(9, 25.0))


def test_rerender_touches_only_changed_frames_and_turns_the_head(take: Path):
    before = digests(take)
    _, track = TakeFolder(take).read()
    edited = MotionTrack(track.fps, track.channels, track.data.copy(), dict(track.meta))
    edited["head_yaw"][4:7] = 18.0
    result = rerender(take, edited)
    assert result.status == "complete"
    assert result.changed == [4, 5, 6]
    after = digests(take)
    assert after.keys() == before.keys()
    differ = sorted(name for name in before if before[name] != after[name])
    assert differ == [frame_name(i) for i in (5, 6, 7)]
    # The head really turned to the viewer's right in the re-rendered frames.
    turned = head_yaw_measured(take / "frames" / frame_name(6))
    kept = head_yaw_measured(take / "frames" / frame_name(2))
    assert turned - kept > 0.03
    record, saved = TakeFolder(take).read()
    # The rewritten frames carry the take's Content Credentials, as the others do.
    facts = take_facts(record.to_json())
    for index in (2, 5, 7):
        cred = read_credentials(take / "frames" / frame_name(index))
        assert cred.state == "valid" and cred.take_id == facts.take_id, cred.problems
        assert cred.watermark_payload == facts.watermark
    np.testing.assert_allclose(saved["head_yaw"][4:7], 18.0)
    assert record.rerenders[-1]["frames"] == 3
    assert not (take / STAGING_DIR).exists()
    # Nothing left to do the second time.
    assert rerender(take, edited).status == "unchanged"


def test_cancelled_rerender_leaves_the_take_as_it_was(take: Path):
    before = digests(take)
    motion_before = digest(take / "motion.npz")
    _, track = TakeFolder(take).read()
    edited = MotionTrack(track.fps, track.channels, track.data.copy())
    edited["head_pitch"][:] = 10.0
    stop = threading.Event()

    def progress(fraction: float, message: str) -> None:
        if "changed" in message:
            stop.set()

    result = rerender(take, edited, progress, stop)
    assert result.status == "cancelled"
    assert digests(take) == before
    assert digest(take / "motion.npz") == motion_before
    assert not (take / STAGING_DIR).exists()


def test_rerender_refuses_a_changed_portrait(tmp_path: Path, clip: Path):
    image = tmp_path / "portrait.png"
    image.write_bytes(SAMPLE_IMAGE.read_bytes())
    take = tmp_path / "take"
    generate(image, clip, take, Settings(fps=6))
    _, track = TakeFolder(take).read()
    track["jawOpen"][0] = 0.9
    pixels = cv2.imread(str(image))
    pixels[:4] = 0
    cv2.imwrite(str(image), pixels)
    with pytest.raises(VasaError, match="changed since the take was made"):
        rerender(take, track)
    with pytest.raises(VasaError, match="not a complete take"):
        rerender(tmp_path / "nowhere", track)


@pytest.mark.parametrize("fmt,ext", [("jpeg", ".jpg"), ("exr", ".exr")])
def test_frame_formats(tmp_path: Path, clip: Path, fmt: str, ext: str):
    out = tmp_path / fmt
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=4, frame_format=fmt))
    files = sorted((out / "frames").iterdir())
    assert [p.name for p in files] == [f"frame_{i:06d}{ext}" for i in range(1, 5)]
    assert json.loads((out / "run.json").read_text())["frames"]["pattern"] == "frame_%06d" + ext
    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    frame = cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED)
    source = cv2.imread(str(SAMPLE_IMAGE))
    assert frame.shape[:2] == source.shape[:2]
    if fmt == "exr":
        assert frame.dtype == np.float32
        # Scene-linear: mid-grey sRGB values come back darker than their 8-bit code / 255.
        srgb = source.astype(np.float32) / 255
        far = (slice(0, 40), slice(0, 40))
        assert frame[far].mean() < srgb[far].mean()
        back = np.where(
            frame <= 0.0031308,
            frame * 12.92,
            1.055 * np.power(np.clip(frame, 0, None), 1 / 2.4) - 0.055,
        )
        assert np.abs(back[far] * 255 - source[far]).mean() < 1.0
    else:
        assert np.abs(frame[:40, :40].astype(float) - source[:40, :40]).mean() < 3.0
        # The provenance text near the start (a JPEG's after the manifest's APP11 segments).
        head = without_c2pa(files[0].read_bytes())[:12000]
        assert b"Synthetic talking-head video frame" in head


def test_unknown_frame_format_is_refused_before_writing(tmp_path: Path, clip: Path):
    with pytest.raises(VasaError, match="Frame format"):
        generate(SAMPLE_IMAGE, clip, tmp_path / "t", Settings(frame_format="tiff"))
    assert not (tmp_path / "t").exists()


@pytest.mark.parametrize("output", ["both", "crop512"])
def test_rerender_keeps_the_face_crops_in_step(tmp_path: Path, clip: Path, output: str):
    take = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, take, Settings(fps=6, output=output))
    folders = ["frames", "crop512"] if output == "both" else ["frames"]
    before = {f: {p.name: digest(p) for p in sorted((take / f).iterdir())} for f in folders}
    _, track = TakeFolder(take).read()
    track["head_yaw"][2] = 15.0
    assert rerender(take, track).changed == [2]
    for folder in folders:
        after = {p.name: digest(p) for p in sorted((take / folder).iterdir())}
        assert [n for n in after if after[n] != before[folder][n]] == [frame_name(3)], folder
    crop = cv2.imread(str(take / folders[-1] / frame_name(3)))
    assert crop.shape[:2] == (512, 512)
