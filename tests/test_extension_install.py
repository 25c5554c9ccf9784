"""The platform zip installs cleanly and runs on the wheels it carries.

``make test-extension-zip BPY=X`` (part of ``make test-blender-all``, and of ``make test``
for the newest Blender) builds the zips with their wheels, makes a venv with nothing but the
``bpy`` wheel X, and runs this file there with ``VASA_BARE_PYTHON`` set: the Linux zip is
installed into a clean user folder and Generate makes a take, its packages imported from
the extension's own wheels. Without that variable there is nothing to test here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE

from core.audio import SAMPLE_RATE, load_audio

BARE = os.environ.get("VASA_BARE_PYTHON")
pytestmark = pytest.mark.skipif(
    not BARE, reason="run by make test-extension-zip (a venv with only the bpy wheel)"
)
DIST = REPO / "dist"
PLATFORM_TAGS = {"linux_x64": "manylinux", "windows_x64": "win_amd64", "macos_arm64": "macosx"}


def zips() -> dict[str, Path]:
    return {p.stem.rsplit("-", 1)[-1]: p for p in DIST.glob("talking_head-*-*.zip")}


def test_each_zip_carries_only_its_platforms_wheels_for_python_311():
    built = zips()
    assert set(built) == set(PLATFORM_TAGS), built
    for platform, path in built.items():
        with zipfile.ZipFile(path) as archive:
            wheels = [n for n in archive.namelist() if n.endswith(".whl")]
            manifest = archive.read("blender_manifest.toml").decode()
        assert wheels, platform
        assert f'platforms = ["{platform.replace("_", "-")}"]' in manifest
        for wheel in wheels:
            name = Path(wheel).name
            assert name in manifest  # listed, so Blender installs it
            tags = name[:-4].split("-")[-3:]
            assert tags[0] in ("cp311", "py3", "py2.py3") or tags[1] == "abi3", name
            assert tags[2] == "any" or PLATFORM_TAGS[platform] in tags[2], name


def test_the_linux_zip_generates_with_its_own_wheels(tmp_path):
    clip = tmp_path / "two_seconds.wav"
    sf.write(clip, load_audio(SAMPLE_AUDIO)[: 2 * SAMPLE_RATE], SAMPLE_RATE)
    user = tmp_path / "user"
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(user))
    args = {"image": str(SAMPLE_IMAGE), "audio": str(clip)}
    done = subprocess.run(
        [
            BARE,
            str(REPO / "tests" / "blender_scenarios.py"),
            "bundled_wheels",
            str(zips()["linux_x64"]),
            str(tmp_path),
            json.dumps(args),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["status"] == "complete" and result["frames"] == result["n_frames"] == 24
    for name, where in result["modules"].items():
        assert where and str(user) in where, (name, where)  # the extension's wheels
    probe = subprocess.run([BARE, "-c", "import onnxruntime"], capture_output=True)
    assert probe.returncode != 0  # the venv itself has no engine packages
    assert sys.executable != BARE
