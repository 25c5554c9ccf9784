"""The Open Job Description template in farm/openjd/: it validates with ``openjd check``, and
``openjd run`` runs the whole job (Render shards, then Summary) on this machine."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import yaml
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE

TEMPLATE = REPO / "farm" / "openjd" / "talking_head.template.yaml"
OPENJD = Path(sys.executable).with_name("openjd")


def openjd(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    if not OPENJD.is_file():
        pytest.fail(f"{OPENJD} is missing: install requirements-dev.txt (openjd-cli)")
    return subprocess.run(
        [str(OPENJD), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_template_passes_openjd_check():
    result = openjd("check", TEMPLATE, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passes validation checks" in result.stdout


def test_both_steps_embed_the_same_launcher():
    steps = {step["name"]: step for step in yaml.safe_load(TEMPLATE.read_text())["steps"]}
    assert list(steps) == ["Render", "Summary"]
    assert steps["Summary"]["dependencies"] == [{"dependsOn": "Render"}]
    launchers = [step["script"]["embeddedFiles"] for step in steps.values()]
    assert launchers[0] == launchers[1]


def write_clips(folder: Path) -> Path:
    """Three 0.4 s clips (names a, b, c) of the bundled samples and a manifest with relative
    paths, all in ``folder``."""
    shutil.copyfile(SAMPLE_IMAGE, folder / "portrait.png")
    audio, rate = sf.read(SAMPLE_AUDIO, dtype="float32")
    length = int(0.4 * rate)
    (folder / "voices").mkdir()
    rows = []
    for k, name in enumerate("abc"):
        start = int((0.5 + k) * rate)
        sf.write(folder / "voices" / f"{name}.wav", audio[start : start + length], rate)
        rows.append({"image": "portrait.png", "audio": f"voices/{name}.wav", "name": name})
    manifest = folder / "clips.csv"
    with manifest.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image", "audio", "name"])
        writer.writeheader()
        writer.writerows(rows)
    return manifest


def test_openjd_run_renders_every_shard_then_the_summary(tmp_path):
    manifest = write_clips(tmp_path)
    out = tmp_path / "takes"
    result = openjd(
        "run",
        TEMPLATE,
        "-p",
        f"Manifest={manifest}",
        "-p",
        f"OutputDir={out}",
        "-p",
        "Shards=2",
        "-p",
        f"Python={sys.executable}",
        "-p",
        f"EngineDir={REPO}",
        "-p",
        "ExtraArgs=--fps 6 --provider cpu --frame-format jpeg",
        cwd=tmp_path,
        timeout=300,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    # openjd's own log: the two Render tasks (one per shard), then the Summary step.
    shard_1, shard_2 = log.index("Shard(INT) = 1"), log.index("Shard(INT) = 2")
    assert shard_1 < shard_2 < log.index("Running step 'Summary'"), log

    for name in "abc":
        take = out / name
        record = json.loads((take / "run.json").read_text())
        assert record["status"] == "complete", record
        # ExtraArgs reached the engine: 6 fps, JPEG frames, 0.4 s -> 3 frames.
        assert record["fps"] == 6 and record["frames"]["format"] == "jpeg", record
        frames = sorted((take / "frames").glob("frame_*.jpg"))
        assert len(frames) == record["n_frames"] >= 2, frames
    summary = json.loads((out / "batch.json").read_text())
    assert sorted(summary["done"]) == ["a", "b", "c"], summary
    assert summary["failed"] == [] and summary["pending"] == [], summary
