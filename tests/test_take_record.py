"""The take folder contract (core/take/record.py): run.json as a typed RunRecord that every
reader shares, older takes still read, damage is one sentence, and the frame format comes
from the record (an OpenEXR take is measured, not reported as missing frames)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE

from core.audio import SAMPLE_RATE, load_audio
from core.errors import VasaError
from core.face.portrait import load_image
from core.quality.evaluate import evaluate_take
from core.take.frames import read_frame
from core.take.generate import generate
from core.take.record import FramesInfo, RunRecord, TakeFolder
from core.take.settings import Settings


@pytest.fixture(scope="module")
def exr_take(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exr")
    clip = folder / "clip.wav"
    sf.write(clip, load_audio(SAMPLE_AUDIO)[:SAMPLE_RATE], SAMPLE_RATE)
    generate(SAMPLE_IMAGE, clip, folder / "take", Settings(fps=6, frame_format="exr"))
    return folder / "take"


def test_record_round_trips_through_run_json(exr_take):
    take = TakeFolder(exr_take)
    record = take.read_record()
    assert record.frames == FramesInfo("frames", 1, "exr", "frame_%06d.exr")
    assert record.settings.frame_format == "exr" and record.status == "complete"
    again = RunRecord.from_json(json.loads(json.dumps(record.to_json())))
    assert again == record


def test_an_exr_take_is_evaluated_from_its_record(exr_take):
    report = evaluate_take(exr_take)
    assert report["frames"] == report["detected"] == 6
    # The half-float linear frame reads back as the sRGB picture it was made from.
    first = read_frame(TakeFolder(exr_take).frame_path(1, "exr"), "exr")
    photo = load_image(SAMPLE_IMAGE)
    assert first.shape == photo.shape
    assert np.abs(first.astype(int) - photo).mean() < 1.5


def test_a_take_recorded_before_the_typed_record_still_reads(tmp_path):
    """run.json as earlier versions wrote it: flat motion settings, no frame format."""
    old = {
        "engine": {"name": "vasa-blender", "version": "0.1.0"},
        "status": "complete",
        "settings": {"fps": 12.0, "seed": 4, "emotion": "sad", "frame_format": "jpeg"},
        "seed": 4,
        "fps": 12.0,
        "n_frames": 3,
        "frames": {"folder": "frames", "first": 1, "pattern": "frame_%06d.jpg"},
        "some_future_key": 1,
    }
    (tmp_path / "run.json").write_text(json.dumps(old))
    record = TakeFolder(tmp_path).read_record()
    assert record.frames.format == "jpeg"
    assert record.settings.motion.seed == 4 and record.settings.motion.emotion == "sad"
    assert record.settings.frame_format == "jpeg" and record.n_frames == 3


@pytest.mark.parametrize(
    "text, says",
    [("{not json", "damaged"), (json.dumps({"status": "complete"}), "damaged")],
)
def test_a_damaged_record_is_one_sentence(tmp_path, text, says):
    (tmp_path / "run.json").write_text(text)
    with pytest.raises(VasaError, match=says) as info:
        TakeFolder(tmp_path).read_record()
    assert str(info.value).count(". ") == 0 and "generate it again" in str(info.value)


def test_a_missing_record_names_the_file(tmp_path):
    with pytest.raises(VasaError, match="run.json is missing"):
        TakeFolder(tmp_path).read()
