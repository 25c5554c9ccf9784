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
    # The half-float linear frame reads back as the sRGB picture it was made from: away
    # from the face (which moves, and carries the watermark) the pixels are the photo's.
    first = read_frame(TakeFolder(exr_take).frame_path(1, "exr"), "exr")
    photo = load_image(SAMPLE_IMAGE)
    assert first.shape == photo.shape
    diff = np.abs(first.astype(int) - photo)
    assert np.median(diff) < 1.0 and np.percentile(diff, 75) <= 1 and diff.mean() < 3.0


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


def test_keys_this_version_does_not_know_are_kept(exr_take, tmp_path):
    """A pipeline tool's (or a newer version's) keys survive a read and a write back, as a
    re-render does."""
    values = json.loads((exr_take / "run.json").read_text()) | {"studio_shot": "sh010"}
    (tmp_path / "run.json").write_text(json.dumps(values))
    take = TakeFolder(tmp_path)
    record = take.read_record()
    record.rerenders.append({"frames": 1})
    take.write_record(record)
    again = json.loads((tmp_path / "run.json").read_text())
    assert again["studio_shot"] == "sh010" and again["rerenders"] == [{"frames": 1}]


def test_ctrl_c_during_an_evaluation_sweep_cancels_it(tmp_path, monkeypatch, capsys):
    from core.cli import main
    from core.render.warp import WarpRenderer

    real, calls = WarpRenderer.render, []

    def render(self, channels):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(self, channels)

    monkeypatch.setattr(WarpRenderer, "render", render)
    take = tmp_path / "sweep"
    assert main(["evaluate", "--take", str(take), "--sweep", str(SAMPLE_IMAGE)]) == 130
    assert "cancelled" in capsys.readouterr().err
    record = TakeFolder(take).read_record()
    assert record.status == "cancelled" and record.frames_written == 3
    with pytest.raises(VasaError, match="did not finish"):
        evaluate_take(take)


def test_a_truncated_motion_file_is_one_sentence(exr_take, tmp_path):
    data = (exr_take / "motion.npz").read_bytes()
    (tmp_path / "motion.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(VasaError, match=r"damaged \(motion.npz: it cannot be read"):
        TakeFolder(tmp_path).read_track()
