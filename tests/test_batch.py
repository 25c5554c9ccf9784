"""The batch manifest and runner (core/batch): resumable, idempotent, one worker per take,
a bad clip fails alone, and a bad manifest is refused row by row before any work."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE, run_cli

from core.audio import SAMPLE_RATE, load_audio
from core.batch.manifest import ManifestError, Shard, read_manifest
from core.batch.run import EngineMaker, run_batch, write_summary
from core.errors import VasaError
from core.take.claim import CLAIM_FILE
from core.take.record import TakeFolder

FPS = ["--fps", "6"]


@pytest.fixture()
def inputs(tmp_path) -> Path:
    """tmp_path/in/: the sample portrait, a face-less picture and four 0.4 s voice clips."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "face.png").write_bytes(SAMPLE_IMAGE.read_bytes())
    import cv2

    cv2.imwrite(str(folder / "wall.png"), np.full((256, 256, 3), 128, np.uint8))
    voice = load_audio(SAMPLE_AUDIO)
    for k, name in enumerate("abcd"):
        piece = voice[int((0.3 + 0.4 * k) * SAMPLE_RATE) : int((0.7 + 0.4 * k) * SAMPLE_RATE)]
        sf.write(folder / f"{name}.wav", piece, SAMPLE_RATE)
    return tmp_path


def manifest(root: Path, rows: list[str], header: str = "image,audio,name,seed,emotion") -> Path:
    path = root / "clips.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


THREE = [
    "in/face.png,in/a.wav,,1,",
    "in/face.png,in/b.wav,bee,2,happy",
    "in/face.png,in/c.wav,,,sad",
]


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "batch.json"
    }


def test_a_manifest_makes_every_take_then_skips_them(inputs):
    clips = read_manifest(manifest(inputs, THREE), FPS)
    assert [c.name for c in clips] == ["a", "bee", "c"]
    maker = EngineMaker()
    result = run_batch(clips, inputs / "out", maker=maker)
    assert result.names("done") == ["a", "bee", "c"] and not result.failed
    assert len(maker.stages) == 1 and maker.startup_s > 0  # models loaded once per worker
    for clip in clips:
        record = TakeFolder(inputs / "out" / clip.name).read_record()
        assert record.status == "complete" and record.settings.fps == 6
        assert record.settings.motion.seed == clip.settings.motion.seed
    assert TakeFolder(inputs / "out" / "bee").read_record().settings.motion.emotion == "happy"
    summary = json.loads((inputs / "out" / "batch.json").read_text())
    assert summary["done"] == ["a", "bee", "c"] and summary["clips_per_hour"] > 0
    before = digests(inputs / "out")
    again = run_batch(clips, inputs / "out")
    assert again.names("skipped") == ["a", "bee", "c"]
    assert digests(inputs / "out") == before  # idempotent: nothing rewritten


def test_a_half_made_or_outdated_take_is_made_again_alone(inputs):
    clips = read_manifest(manifest(inputs, THREE), FPS)
    run_batch(clips, inputs / "out")
    out = inputs / "out"
    # A worker killed while making "a": its run.json still says running, a frame is gone.
    record = json.loads((out / "a" / "run.json").read_text()) | {"status": "running"}
    (out / "a" / "run.json").write_text(json.dumps(record))
    (out / "a" / "frames" / "frame_000002.png").unlink()
    # The voice of "c" was replaced since its take was made.
    voice = load_audio(SAMPLE_AUDIO)[: int(0.5 * SAMPLE_RATE)]
    sf.write(inputs / "in" / "c.wav", voice, SAMPLE_RATE)
    bee = digests(out / "bee")
    result = run_batch(clips, out)
    assert result.names("done") == ["a", "c"] and result.names("skipped") == ["bee"]
    assert digests(out / "bee") == bee
    assert (out / "a" / "frames" / "frame_000002.png").is_file()
    assert TakeFolder(out / "c").read_record().status == "complete"


def test_a_claimed_take_is_left_to_its_worker_and_a_stale_claim_is_taken_over(inputs):
    clips = read_manifest(manifest(inputs, THREE), FPS)
    out = inputs / "out"
    (out / "a").mkdir(parents=True)
    (out / "bee").mkdir(parents=True)
    import socket

    live = {"host": socket.gethostname(), "pid": os.getppid(), "token": "x", "since": "now"}
    (out / "a" / CLAIM_FILE).write_text(json.dumps(live))
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    ).stdout.strip()
    (out / "bee" / CLAIM_FILE).write_text(json.dumps(live | {"pid": int(dead)}))
    result = run_batch(clips, out)
    assert result.names("elsewhere") == ["a"] and "claimed by process" in result.clips[0].error
    assert not (out / "a" / "run.json").exists()  # untouched
    assert result.names("done") == ["bee", "c"]
    assert not (out / "bee" / CLAIM_FILE).exists()  # released after the take


def test_two_workers_on_the_same_shard_never_make_the_same_take(inputs):
    rows = [*THREE, "in/face.png,in/d.wav,,,"]
    path = manifest(inputs, rows)
    cmd = [
        sys.executable,
        "-m",
        "core",
        "batch",
        "--manifest",
        str(path),
        "--out",
        str(inputs / "out"),
        *FPS,
    ]
    workers = [
        subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    logs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], logs
    made = [
        line.split(":")[0].split("] ")[1]
        for _, err in logs
        for line in err.splitlines()
        if line.endswith(": done")
    ]
    assert sorted(made) == ["a", "bee", "c", "d"]  # each take made exactly once
    for name in ("a", "bee", "c", "d"):
        assert TakeFolder(inputs / "out" / name).read_record().status == "complete"


def test_shards_split_the_clips(inputs):
    clips = read_manifest(manifest(inputs, [*THREE, "in/face.png,in/d.wav,,,"]), FPS)
    first = [c.name for c in clips if Shard(1, 2).holds(c)]
    second = [c.name for c in clips if Shard(2, 2).holds(c)]
    assert first == ["a", "c"] and second == ["bee", "d"]
    result = run_batch(clips, inputs / "out", Shard(2, 2))
    assert result.names("done") == ["bee", "d"]
    assert (inputs / "out" / "batch-shard-2-of-2.json").is_file()
    summary = write_summary(clips, inputs / "out")
    assert summary.names("done") == ["bee", "d"] and summary.names("pending") == ["a", "c"]


def test_a_bad_clip_fails_alone(inputs):
    rows = [THREE[0], "in/wall.png,in/b.wav,wall,,", THREE[2]]
    done = run_cli("batch", "--manifest", manifest(inputs, rows), "--out", inputs / "out", *FPS)
    assert done.returncode == 1, done.stderr
    summary = json.loads((inputs / "out" / "batch.json").read_text())
    assert summary["done"] == ["a", "c"]
    assert [f["name"] for f in summary["failed"]] == ["wall"]
    assert "No face found" in summary["failed"][0]["error"]
    assert not (inputs / "out" / "wall").exists()  # refused before its folder was touched


@pytest.mark.parametrize(
    "rows, header, says",
    [
        (
            ["in/face.png,in/nothing.wav,,,"],
            None,
            "line 2: the audio file in/nothing.wav does not exist",
        ),
        (["in/face.png,in/a.wav,,1,,extra"], None, "line 2 has 6 cells but the header has 5"),
        (
            ["in/face.png,in/a.wav,x,,", "in/face.png,in/b.wav,X,,"],
            None,
            "names the take 'X' like line 2",
        ),
        (["in/face.png,in/a.wav,,,furious"], None, "line 2: argument --emotion: invalid choice"),
        (["in/face.png,in/a.wav,,abc,"], None, "line 2: argument --seed: invalid int value"),
        (["in/face.png,in/a.wav,../up,,"], None, "take name '../up' must be a plain folder name"),
        (["in/face.png,in/a.wav,,"], "image,audio,name,style", "column 'style' is not a setting"),
        ([], None, "lists no clips"),
    ],
)
def test_a_bad_manifest_is_refused_row_by_row_before_any_work(inputs, rows, header, says):
    path = manifest(
        inputs, [*rows, THREE[1]] if rows else [], header or "image,audio,name,seed,emotion"
    )
    done = run_cli("batch", "--manifest", path, "--out", inputs / "out")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines)
    assert any(says in line for line in lines), lines
    assert not (inputs / "out").exists()  # nothing started


def test_a_shard_out_of_range_is_one_sentence(inputs):
    done = run_cli(
        "batch", "--manifest", manifest(inputs, THREE), "--out", inputs / "out", "--shard", "3/2"
    )
    assert done.returncode == 2 and done.stderr.startswith("error: Shard 3/2 is out of range")
    with pytest.raises(VasaError, match="not of the form"):
        Shard.parse("two")


def test_cancel_stops_after_the_current_take_and_still_writes_the_summary(inputs):
    clips = read_manifest(manifest(inputs, THREE), FPS)
    stop = threading.Event()
    result = run_batch(clips, inputs / "out", cancel=stop, report=lambda line: stop.set())
    assert result.names("done") == ["a"] and result.names("pending") == ["bee", "c"]
    summary = json.loads((inputs / "out" / "batch.json").read_text())
    assert summary["pending"] == ["bee", "c"]


def test_summary_only_says_whether_everything_is_done(inputs):
    path = manifest(inputs, THREE)
    args = ["batch", "--manifest", path, "--out", inputs / "out", *FPS]
    assert run_cli(*args, "--shard", "1/3").returncode == 0
    partial = run_cli(*args, "--summary-only")
    assert partial.returncode == 1 and "1 of 3 takes done" in partial.stdout
    assert run_cli(*args).returncode == 0
    assert run_cli(*args, "--summary-only").returncode == 0
    assert json.loads((inputs / "out" / "batch.json").read_text())["done"] == ["a", "bee", "c"]


def test_manifest_errors_list_every_problem(inputs):
    path = manifest(inputs, ["in/x.png,in/a.wav,,,", "in/face.png,in/y.wav,,,"])
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    assert len(info.value.problems) == 2


def test_negative_numbers_and_long_flag_names_are_manifest_values(inputs):
    path = manifest(
        inputs, ["in/face.png,in/a.wav,,-0.5,-1e-3"], "image,audio,name,gaze-yaw,gaze_pitch"
    )
    (clip,) = read_manifest(path)
    assert clip.settings.motion.gaze_yaw == -0.5 and clip.settings.motion.gaze_pitch == -1e-3
