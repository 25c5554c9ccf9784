"""The renderer's outputs beyond full frames: the 512x512 face crop, the contact sheet and
the evaluation command, run as users run them."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE, run_cli

from core.audio import SAMPLE_RATE, load_audio
from core.errors import VasaError
from core.quality.contact_sheet import sheet_frames
from core.take.generate import generate
from core.take.settings import Settings


def _read(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("outputs") / "speech_0.6s.wav"
    sf.write(str(path), load_audio(SAMPLE_AUDIO)[: int(0.6 * SAMPLE_RATE)], SAMPLE_RATE)
    return path


def test_both_writes_crops_beside_full_frames(clip, tmp_path):
    result = generate(SAMPLE_IMAGE, clip, tmp_path / "take", Settings(output="both"))
    full = sorted((tmp_path / "take" / "frames").glob("frame_*.png"))
    crops = sorted((tmp_path / "take" / "crop512").glob("frame_*.png"))
    assert len(full) == len(crops) == result.n_frames > 0
    assert [p.name for p in full] == [p.name for p in crops]
    record = json.loads((tmp_path / "take" / "run.json").read_text())
    x0, y0, side, _ = record["crop512"]["box"]
    assert record["settings"]["output"] == "both" and record["crop512"]["folder"] == "crop512"
    frame, crop = _read(full[3]), _read(crops[3])
    assert frame.shape == (512, 512, 3) and crop.shape == (512, 512, 3)
    # The crop is that box of the full frame, scaled.
    expected = cv2.resize(
        frame[y0 : y0 + side, x0 : x0 + side], (512, 512), interpolation=cv2.INTER_AREA
    )
    assert np.abs(crop.astype(int) - expected).mean() < 3.0


def test_crop_only_writes_512_frames(clip, tmp_path):
    generate(SAMPLE_IMAGE, clip, tmp_path / "take", Settings(output="crop512"))
    frame = _read(tmp_path / "take" / "frames" / "frame_000001.png")
    assert frame.shape == (512, 512, 3)
    assert not (tmp_path / "take" / "crop512").exists()


def test_unknown_output_is_refused_before_writing(clip, tmp_path):
    with pytest.raises(VasaError, match="Output"):
        generate(SAMPLE_IMAGE, clip, tmp_path / "take", Settings(output="square"))
    assert not (tmp_path / "take").exists()


def test_contact_sheet_cli(tmp_path):
    out = tmp_path / "sheet.png"
    done = run_cli("contact-sheet", "--image", SAMPLE_IMAGE, "--out", out, "--tile", "96")
    assert done.returncode == 0, done.stderr
    sheet = _read(out)
    rows = -(-len(sheet_frames()) // 8)
    assert sheet.shape[1] == 8 * 96 and sheet.shape[0] >= rows * 96
    # Tiles differ from the neutral one (each shows its channel).
    neutral = sheet[:90, :96].astype(int)
    jaw = [k for k, (label, _) in enumerate(sheet_frames()) if label.startswith("jawOpen")][0]
    r, c = divmod(jaw, 8)
    th = sheet.shape[0] // rows
    assert (
        np.abs(sheet[r * th : r * th + 90, c * 96 : (c + 1) * 96].astype(int) - neutral).mean() > 1
    )


def test_evaluate_cli_on_a_sweep(tmp_path):
    take = tmp_path / "sweep"
    done = run_cli("evaluate", "--take", take, "--sweep", SAMPLE_IMAGE)
    assert done.returncode == 0, done.stderr
    report = json.loads((take / "evaluate.json").read_text())
    assert (take / "evaluate.png").stat().st_size > 1000
    assert report["detected"] == report["frames"] > 0
    for key in ("yaw", "pitch", "mouth", "eye_left", "eye_right"):
        assert report["follows"][key]["correlation"] >= 0.9, (key, report["follows"])
    # A folder that is not a take: one sentence, status 2.
    bad = run_cli("evaluate", "--take", tmp_path / "nothing")
    assert bad.returncode == 2 and bad.stderr.startswith("error:")
