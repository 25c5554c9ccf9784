"""``make bench`` with a neural pack: the LivePortrait path's per-frame parts are timed
apart from its networks (numbers are reported, never asserted; only that each part is
measured and printed)."""

from __future__ import annotations

import neural_standins as standins
from conftest import SAMPLE_IMAGE

from core.face.portrait import load_image
from core.motion.track import MotionTrack
from core.quality.bench import (
    bench_floors,
    bench_motion,
    make_audio,
    neural_stages,
    print_neural,
)
from core.runtime.factory import open_stages
from core.runtime.pack_init import init_pack
from core.runtime.sessions import Runtime, RuntimeConfig


def test_neural_stages_time_each_part(tmp_path, capsys):
    folder = standins.liveportrait_folder(tmp_path / "lp")  # with eye and lip retargeting
    init_pack(folder)
    stages = open_stages(folder, runtime=Runtime(RuntimeConfig("cpu", 1)))
    photo = load_image(SAMPLE_IMAGE)
    face = stages.face.analyze(photo, "astronaut.png")
    renderer = stages.renderer(photo, face)
    track = MotionTrack.neutral(3, 25.0)
    track.data[:, track.index("head_yaw")] = [0.0, 5.0, -5.0]
    track.data[:, track.index("jawOpen")] = [0.2, 0.3, 0.4]
    track.data[:, track.index("eyeBlinkLeft")] = [0.5, 0.0, 1.0]
    parts = neural_stages(renderer, photo, face, track, 3)
    keys = {"keypoints", "retarget", "stitch", "warp", "paste", "crop_once", "source_networks_once"}
    assert set(parts) == keys and all(v > 0 for v in parts.values()), parts
    print_neural(parts, write_ms=2.0)
    out = capsys.readouterr().out
    labels = ("keypoint maths", "retarget", "warp + decoder", "paste-back", "writing", "ours,")
    for label in labels:
        assert label in out


def test_bench_binds_the_portrait_for_a_ditto_pack(tmp_path, capsys):
    """Ditto's motion depends on the photo: the bench binds the portrait before its motion
    (as a take does), in the render floors and in the motion timing."""
    folder = standins.ditto_folder(tmp_path / "ditto")
    init_pack(folder)
    audio = make_audio(tmp_path / "voice.wav", 1.0)
    floors = bench_floors(SAMPLE_IMAGE, audio, tmp_path / "floor", frames=3, pack=folder)
    assert floors["pack_motion"] and floors["render_fps"] > 0 and "neural" in floors
    times = bench_motion(runs=1, seconds=1.0, pack=folder)
    assert times["DittoMotion"] > 0
    assert "DittoMotion" in capsys.readouterr().out
