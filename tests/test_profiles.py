"""A second profile proves the seam: the stand-in ``test-tint`` profile (tests/standin_profile.py),
registered only through the registry, runs the real pipeline, re-render, the evaluation sweep
and contact sheets. Its renderer tints the photo red by jawOpen, so every frame on disk says
which renderer made it and from which motion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import standin_profile as standin
from conftest import SAMPLE_AUDIO, SAMPLE_IMAGE

from core import stages
from core.audio import SAMPLE_RATE, load_audio
from core.errors import ModelPackError
from core.face.portrait import load_image
from core.motion.track import MotionTrack
from core.quality.contact_sheet import write_contact_sheet
from core.quality.evaluate import render_sweep
from core.runtime import profiles
from core.runtime.factory import open_stages
from core.runtime.packs import BUILTIN_PACK_DIR
from core.take.frames import frame_name
from core.take.generate import generate
from core.take.record import TakeFolder
from core.take.rerender import rerender
from core.take.settings import Settings

FPS = 12


@pytest.fixture(scope="module")
def tint():
    renderer = standin.register(profiles, stages)
    yield renderer
    profiles.unregister_profile(standin.NAME)


@pytest.fixture(scope="module")
def pack(tint, tmp_path_factory) -> Path:
    return standin.make_pack(BUILTIN_PACK_DIR, tmp_path_factory.mktemp("packs") / "tint")


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    return load_image(SAMPLE_IMAGE)


@pytest.fixture(scope="module")
def take(pack, tmp_path_factory) -> Path:
    """A take of 1.5 s of the sample speech made with the stand-in pack."""
    folder = tmp_path_factory.mktemp("tint")
    clip = folder / "clip.wav"
    sf.write(clip, load_audio(SAMPLE_AUDIO)[: int(1.5 * SAMPLE_RATE)], SAMPLE_RATE)
    generate(SAMPLE_IMAGE, clip, folder / "take", Settings(fps=FPS, pack=str(pack)))
    return folder / "take"


def gains(take: Path, photo: np.ndarray) -> np.ndarray:
    track = TakeFolder(take).read_track()
    return np.array(
        [
            standin.red_gain(load_image(take / "frames" / frame_name(i + 1)), photo)
            for i in range(track.n_frames)
        ]
    )


def test_factory_makes_the_profiles_stages(pack, photo, tint):
    made = open_stages(pack)
    assert made.profile.name == standin.NAME and made.pack.profile == standin.NAME
    face = made.face.analyze(photo, "astronaut.png")
    renderer = made.renderer(photo, face)
    assert isinstance(renderer, tint) and isinstance(renderer, stages.Renderer)
    assert isinstance(made.face, stages.FaceAnalysis)
    assert isinstance(made.motion, stages.MotionGenerator)
    # The built-in pack still gets the built-in renderer.
    assert type(open_stages(None).renderer(photo, face)).__name__ == "WarpRenderer"


def test_generate_renders_with_the_packs_renderer_in_batches(take, photo, tint):
    record, track = TakeFolder(take).read()
    assert record.status == "complete" and record.pack["profile"] == standin.NAME
    jaw = track["jawOpen"]
    assert jaw.max() > 0.2 and jaw.min() < 0.05  # the voice really moved the jaw
    np.testing.assert_allclose(gains(take, photo), jaw, atol=0.01)
    # Whole track rows went to the renderer, BATCH at a time (the last batch shorter).
    assert standin.BATCH in tint.batches and max(tint.batches) == standin.BATCH


def test_rerender_uses_the_takes_profile(take, photo):
    record, track = TakeFolder(take).read()
    edited = MotionTrack(track.fps, track.channels, track.data.copy(), dict(track.meta))
    edited.data[2:4, edited.index("jawOpen")] = 1.0
    result = rerender(take, edited)
    assert result.status == "complete" and result.changed[:2] == [2, 3]
    after = gains(take, photo)
    np.testing.assert_allclose(after[2:4], 1.0, atol=0.01)
    np.testing.assert_allclose(after, edited["jawOpen"], atol=0.01)


def test_evaluation_sweep_and_contact_sheet_use_the_pack(pack, photo, tmp_path):
    sweep = render_sweep(SAMPLE_IMAGE, tmp_path / "sweep", pack=pack)
    record, track = TakeFolder(sweep).read()
    assert record.kind == "evaluation sweep" and record.pack["profile"] == standin.NAME
    np.testing.assert_allclose(gains(sweep, photo), track["jawOpen"], atol=0.01)
    sheet = write_contact_sheet(SAMPLE_IMAGE, tmp_path / "sheet.png", tile=96, pack=pack)
    assert sheet.is_file()


def test_unknown_profile_is_one_sentence(tmp_path):
    folder = standin.make_pack(BUILTIN_PACK_DIR, tmp_path / "odd")
    text = (folder / "pack.toml").read_text().replace(standin.NAME, "no-such-profile")
    (folder / "pack.toml").write_text(text)
    with pytest.raises(
        ModelPackError, match="names profile 'no-such-profile', which this version does not know"
    ):
        open_stages(folder)


def test_run_json_names_the_profile(take):
    values = json.loads((take / "run.json").read_text())
    assert values["pack"]["profile"] == standin.NAME
    assert values["settings"]["pack"].endswith("tint")
