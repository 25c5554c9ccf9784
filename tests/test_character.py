"""3D characters: ARKit name matching, the channel -> shape key plan, Live Link Face CSV
import/export (CLI too), and, with the bpy module, *Animate Character* and the batch
character mode in Blender (scenarios in tests/character_scenarios.py, one process each)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import blender_runner
import numpy as np
import pytest
import soundfile as sf
from blender_runner import build_extension_zip

from core.audio import SAMPLE_RATE, load_audio
from core.character.arkit import ARKIT_NAMES, arkit_name, find_name, normalize
from core.character.livelink import HEADER, LiveLinkError, read_csv, write_csv
from core.character.mapping import plan_shape_keys, rotation_curves
from core.character.take import motion_file_take
from core.character.timing import resample
from core.cli import main as cli_main
from core.motion.track import STANDARD_CHANNELS, MotionTrack
from core.take.record import TakeFolder
from core.take.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = Path(__file__).with_name("character_scenarios.py")
SAMPLE_IMAGE = REPO / "samples" / "astronaut.png"
SAMPLE_AUDIO = REPO / "samples" / "speech.wav"
START, FPS = 10, 12


def random_track(n: int = 60, fps: float = 25.0, seed: int = 0) -> MotionTrack:
    rng = np.random.default_rng(seed)
    track = MotionTrack.neutral(n, fps)
    for name in STANDARD_CHANNELS:
        if name.startswith(("head_", "gaze_")):
            track[name] = rng.uniform(-15, 15, n)
        else:
            track[name] = rng.uniform(0, 1, n)
    return track


# ------------------------------------------------------------------------- names and plan
@pytest.mark.parametrize("spelling", ["jawOpen", "JawOpen", "jaw_open", "JAW-OPEN", "Jaw Open"])
def test_arkit_names_match_whatever_the_case_and_separators(spelling):
    assert normalize(spelling) == "jawopen"
    assert arkit_name(spelling) == "jawOpen"
    assert find_name("jawOpen", ["Basis", "mouthClose", spelling]) == spelling


def test_arkit_table_has_apples_52_names():
    assert len(set(ARKIT_NAMES)) == 52 and ARKIT_NAMES[0] == "eyeBlinkLeft"
    assert ARKIT_NAMES[-1] == "tongueOut" and arkit_name("not_a_shape") is None


def test_plan_matches_maps_and_reports_missing_channels():
    meshes = {
        "Head": ["jawOpen", "JAW_OPEN_basis_is_never_driven"][::-1] + ["eye_blink_left", "Smile_L"],
        "Teeth": ["Basis", "MouthOpenCustom"],
    }
    channels = ["head_yaw", "gaze_yaw", "jawOpen", "eyeBlinkLeft", "mouthSmileLeft", "browInnerUp"]
    plan = plan_shape_keys(
        channels,
        meshes,
        {"mouthSmileLeft": "smile_l", "jawOpen": "mouthopencustom", "eyeWideLeft": "nope"},
    )
    assert (
        "jawOpen",
        "Head",
        "jawOpen",
    ) in plan.keys  # its own name where the mapped one is absent
    assert ("jawOpen", "Teeth", "MouthOpenCustom") in plan.keys
    assert ("eyeBlinkLeft", "Head", "eye_blink_left") in plan.keys
    assert ("mouthSmileLeft", "Head", "Smile_L") in plan.keys
    assert plan.missing == ["browInnerUp"]  # head and gaze are rotations, not shape keys
    assert plan.bad_mapping == ["eyeWideLeft -> nope"]
    assert all(key != "JAW_OPEN_basis_is_never_driven" for *_, key in plan.keys)


def test_rotation_axes_for_objects_and_bones():
    track = MotionTrack.neutral(3, 25.0)
    track["head_yaw"], track["head_pitch"], track["head_roll"] = 10.0, 20.0, 30.0
    obj = rotation_curves(track, "head", bone=False, rest=(0.5, 0.0, 0.0))
    assert math.isclose(obj[2][0], math.radians(10))  # yaw about Z
    assert math.isclose(obj[0][0], 0.5 - math.radians(20))  # pitch up about -X, on the rest
    assert math.isclose(obj[1][0], math.radians(30))
    bone = rotation_curves(track, "head", bone=True, rest=(0.0, 0.0, 0.0))
    assert math.isclose(bone[1][0], math.radians(10)) and math.isclose(
        bone[2][0], -math.radians(30)
    )
    gaze = rotation_curves(track, "gaze", bone=False, rest=(0.0, 0.0, 0.0))
    assert set(gaze) == {0, 2} and not gaze[0].any()


def test_resample_keeps_the_duration_and_the_shape():
    track = MotionTrack.neutral(61, 60.0)
    track["jawOpen"] = np.linspace(0, 1, 61)
    out = resample(track, 24.0)
    assert out.fps == 24.0 and out.n_frames == 25
    np.testing.assert_allclose(out["jawOpen"], np.linspace(0, 1, 25), atol=1e-6)


# ---------------------------------------------------------------------------- Live Link CSV
def test_csv_round_trip_keeps_every_channel_the_format_holds(tmp_path):
    track = random_track()
    dropped = write_csv(track, tmp_path / "take.csv")
    assert dropped == ["head_x", "head_y", "head_scale"]
    lines = (tmp_path / "take.csv").read_text().splitlines()
    assert lines[0].split(",") == list(HEADER) and len(HEADER) == 63
    assert lines[1].startswith("00:00:00:00.000,61,") and lines[26].startswith("00:00:01:00.000,")
    back = read_csv(tmp_path / "take.csv")
    assert back.fps == 25.0 and back.n_frames == track.n_frames
    for name in STANDARD_CHANNELS:
        if name not in dropped:
            np.testing.assert_allclose(back[name], track[name], atol=2e-5, err_msg=name)
    assert set(ARKIT_NAMES) <= set(back.channels)


def _llf_csv(path: Path, rows: list[tuple[str, dict[str, float]]]) -> Path:
    with open(path, "w") as fh:
        fh.write(",".join(HEADER) + "\n")
        for timecode, values in rows:
            cells = [f"{values.get(h, 0.0)}" for h in HEADER[2:]]
            fh.write(f"{timecode},61," + ",".join(cells) + "\n")
    return path


def test_import_reads_the_apps_timecode_rate_units_and_gaps(tmp_path):
    # 60 fps timecodes across a second boundary, one dropped frame (58), angles in radians.
    rows = []
    for second, frame in [(0, f) for f in range(55, 58)] + [(0, 59), (1, 0), (1, 1)]:
        t = second + frame / 60
        rows.append(
            (
                f"14:03:{10 + second:02d}:{frame:02d}.000",
                {"JawOpen": t, "HeadYaw": math.radians(5), "LeftEyeYaw": 0.1, "RightEyeYaw": 0.3},
            )
        )
    track = read_csv(_llf_csv(tmp_path / "app.csv", rows))
    assert track.fps == 60.0 and track.n_frames == 7  # 55..59, 0, 1: the gap filled
    np.testing.assert_allclose(track["jawOpen"], 55 / 60 + np.arange(7) / 60, atol=1e-5)
    np.testing.assert_allclose(track["head_yaw"], 5.0, atol=1e-5)
    np.testing.assert_allclose(track["gaze_yaw"], math.degrees(0.2), atol=1e-4)
    assert read_csv(tmp_path / "app.csv", fps=30.0).n_frames == 4


BAD_CSV = {
    "empty": ("", "first column is not Timecode"),
    "not-livelink": ("a,b\n1,2\n", "first column is not Timecode"),
    "no-shapes": ("Timecode,BlendShapeCount,Foo\n00:00:00:00.000,61,1\n", "no ARKit blendshape"),
    "no-frames": ("Timecode,BlendShapeCount,JawOpen\n", "no frames"),
    "bad-timecode": ("Timecode,JawOpen\nnoon,0.5\n", "row 2 has the timecode 'noon'"),
    "bad-number": ("Timecode,JawOpen\n00:00:00:00.000,open\n", "row 2, column JawOpen"),
    "short-row": ("Timecode,JawOpen,MouthClose\n00:00:00:00.000,0.1\n", "row 2 has 2 fields"),
    "binary": (b"\xff\xfe\x00garbage", "cannot be read as CSV"),
}


@pytest.mark.parametrize("case", sorted(BAD_CSV))
def test_a_bad_csv_is_one_sentence_and_writes_nothing(tmp_path, capsys, case):
    text, fragment = BAD_CSV[case]
    path = tmp_path / "bad.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(LiveLinkError, match="not a Live Link Face CSV") as info:
        read_csv(path)
    assert fragment in str(info.value) and "\n" not in str(info.value)
    code = cli_main(["livelink", "import", "--csv", str(path), "--out", str(tmp_path / "t")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and fragment in err[0]
    assert not (tmp_path / "t").exists()


def test_cli_import_then_export_gives_the_same_csv(tmp_path, capsys):
    src = tmp_path / "a.csv"
    write_csv(random_track(n=40, fps=30.0, seed=2), src)
    assert cli_main(["livelink", "import", "--csv", str(src), "--out", str(tmp_path / "t")]) == 0
    record = json.loads((tmp_path / "t" / "run.json").read_text())
    assert record["kind"] == "livelink import" and record["status"] == "complete"
    assert record["n_frames"] == 40 and record["fps"] == 30.0
    assert cli_main(["livelink", "import", "--csv", str(src), "--out", str(tmp_path / "t")]) == 2
    out = tmp_path / "b.csv"
    assert cli_main(["livelink", "export", "--take", str(tmp_path / "t"), "--out", str(out)]) == 0
    assert out.read_text() == src.read_text()
    assert (
        cli_main(["livelink", "export", "--take", str(tmp_path / "nope"), "--out", str(out)]) == 2
    )


def test_motion_file_take_is_put_on_the_scene_rate(tmp_path):
    track = random_track(n=50, fps=25.0)
    track.save(tmp_path / "motion.npz")
    take = motion_file_take(tmp_path / "motion.npz", tmp_path / "take", Settings(fps=50.0))
    saved = MotionTrack.load(tmp_path / "take" / "motion.npz")
    assert take.status == "complete" and saved.fps == 50.0 and saved.n_frames == 99
    np.testing.assert_allclose(saved["jawOpen"][::2], track["jawOpen"], atol=1e-6)
    assert any("resampled from 25 to 50" in n for n in take.notes)


# ------------------------------------------------------------------------------ in Blender
needs_bpy = pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs bpy")


@pytest.fixture(scope="module")
def extension_zip(tmp_path_factory) -> Path:
    """Built and validated by Blender's builder, as ``make extension`` does."""
    return build_extension_zip(tmp_path_factory.mktemp("dist"))


def run_scenario(name: str, zip_path: Path, work: Path, **args) -> dict:
    return blender_runner.run_scenario(SCENARIOS, name, zip_path, work, **args)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("audio") / "two_seconds.wav"
    sf.write(path, load_audio(SAMPLE_AUDIO)[: 2 * SAMPLE_RATE], SAMPLE_RATE)
    return path


@pytest.fixture(scope="module")
def animated(extension_zip, clip, tmp_path_factory) -> dict:
    return run_scenario(
        "animate",
        extension_zip,
        tmp_path_factory.mktemp("character"),
        image=SAMPLE_IMAGE,
        audio=clip,
    )


def curve(curves: dict, path: str) -> np.ndarray:
    return np.asarray(curves[path], np.float64)


def follows(points: np.ndarray, values: np.ndarray, start: int) -> None:
    assert len(points) == len(values) > 0
    np.testing.assert_array_equal(points[:, 0], start + np.arange(len(values)))
    np.testing.assert_allclose(points[:, 1], values, atol=1e-6)


@needs_bpy
def test_shape_keys_follow_the_motion_track(animated):
    track = MotionTrack.load(Path(animated["take1_folder"]) / "motion.npz")
    assert track.fps == FPS and track.n_frames == 2 * FPS
    key = animated["take1"]["key"]
    for shape, channel in (
        ("JawOpen", "jawOpen"),
        ("eye_blink_left", "eyeBlinkLeft"),
        ("EYE-BLINK-RIGHT", "eyeBlinkRight"),
        ("Smile_L", "mouthSmileLeft"),  # through the mapping table
    ):
        follows(curve(key, f'key_blocks["{shape}"].value[0]'), np.clip(track[channel], 0, 1), START)
    assert np.ptp(track["jawOpen"]) > 0.1  # it talks (2 s is too short to be sure of a blink)
    obj = animated["take1"]["obj"]
    follows(curve(obj, "rotation_euler[2]"), np.radians(track["head_yaw"]), START)
    follows(curve(obj, "rotation_euler[0]"), -np.radians(track["head_pitch"]), START)
    assert animated["take1"]["action"] == "take_001 Head" and animated["take1"]["fake_user"]


@needs_bpy
def test_missing_channels_are_reported_once(animated):
    status = animated["status1"]
    assert status.startswith("take_001: 4 shape keys and 3 rotation curves keyed from frame 10")
    assert status.count("has no shape key for") == 1
    lacking = status.split("has no shape key for ")[1].split(";")[0].split(", ")
    assert {"mouthClose", "browInnerUp", "mouthPucker"} <= set(lacking)
    assert "jawOpen" not in lacking and "mouthSmileLeft" not in lacking


@needs_bpy
def test_a_second_take_makes_a_second_action_and_leaves_the_first(animated):
    take2 = animated["take2"]
    track = MotionTrack.load(Path(animated["take2_folder"]) / "motion.npz")
    jaw = np.clip(track["jawOpen"], 0, 1)
    follows(
        curve(take2["teeth_key"]["curves"], 'key_blocks["MouthOpenCustom"].value[0]'), jaw, START
    )
    follows(curve(take2["head_key"]["curves"], 'key_blocks["JawOpen"].value[0]'), jaw, START)
    bone = curve(take2["rig"]["curves"], 'pose.bones["head"].rotation_euler[1]')
    follows(bone, np.radians(track["head_yaw"]), START)
    assert take2["bone_mode"] == "XYZ"
    if animated["slotted"]:  # one Action for the take, a slot per datablock
        assert take2["head_key"]["action"] == take2["teeth_key"]["action"] == "take_002 Rig"
        assert take2["rig"]["action"] == "take_002 Rig"
        assert {take2["head_key"]["slot"], take2["rig"]["slot"]} >= {"Rig"}
    else:  # before 4.4: an Action per datablock
        assert take2["head_key"]["action"].startswith("take_002 Rig ")
    assert "take_001 Head" in animated["actions"]
    assert animated["take1_again"] == animated["take1"]["key"]  # the first take's keys intact
    first = MotionTrack.load(Path(animated["take1_folder"]) / "motion.npz")
    assert not np.allclose(track["head_yaw"], first["head_yaw"])  # another seed, another take


@needs_bpy
def test_bad_inputs_are_one_sentence(animated):
    assert "has no shape keys; choose a mesh with ARKit-named shape keys" in animated["no_keys"]
    assert "Add a sound strip with the voice to the sequencer." in animated["no_sound"]
    assert "cannot be read as a motion.npz" in animated["bad_motion"]
    for text in (animated["no_keys"], animated["no_sound"], animated["bad_motion"]):
        assert text.strip().count("\n") == 0


@needs_bpy
def test_a_motion_file_drives_the_character_too(animated):
    first = curve(animated["take1"]["key"], 'key_blocks["JawOpen"].value[0]')
    again = curve(animated["take3"], 'key_blocks["JawOpen"].value[0]')
    np.testing.assert_array_equal(again[:, 0], first[:, 0] - START + 1)  # no sound strip: frame 1
    np.testing.assert_allclose(again[:, 1], first[:, 1], atol=1e-6)
    assert animated["status3"].startswith("take_003:")


@needs_bpy
def test_batch_character_mode_keys_a_saved_blend_and_never_overwrites(
    extension_zip, clip, tmp_path
):
    random_track(n=30, fps=24.0).save(tmp_path / "m.npz")
    seen = run_scenario(
        "batch",
        extension_zip,
        tmp_path,
        script=REPO / "scripts" / "batch.py",
        audio=clip,
        motion=tmp_path / "m.npz",
    )
    out = tmp_path / "takes"
    assert seen["voice"]["code"] == 0, seen["voice"]["stderr"][-2000:]
    record, track = TakeFolder(out / "take_001").read()
    assert record.kind == "character motion" and track.fps == 24.0  # the .blend's rate
    assert ("audio" if seen["has_sound"] else "motion") in record.inputs
    for blend in ("result", "again_blend"):
        keys = seen[blend]["key"]
        follows(curve(keys, 'key_blocks["jawOpen"].value[0]'), np.clip(track["jawOpen"], 0, 1), 1)
        follows(
            curve(keys, 'key_blocks["Eye_Blink_Left"].value[0]'),
            np.clip(track["eyeBlinkLeft"], 0, 1),
            1,
        )
    assert seen["result"]["action"].startswith("take_001 Face")
    # --motion with the take just made, into a second .blend: a second take and Action.
    assert seen["again"]["code"] == 0, seen["again"]["stderr"][-2000:]
    assert (out / "take_002" / "motion.npz").is_file()
    assert seen["again_blend"]["action"].startswith("take_002 Face")
    # The same .blend again: refused in one sentence, the file and the takes untouched.
    refused = seen["overwrite"]
    err = refused["stderr"].strip().splitlines()
    assert refused["code"] == 2 and err[-1].startswith("error: ") and "already exists" in err[-1]
    assert refused["unchanged"] and not (out / "take_003").exists()
    assert seen["nobody"]["code"] == 2 and "has no object 'Nobody'" in seen["nobody"]["stderr"]
    assert not (tmp_path / "x.blend").exists()
