"""tools/build_extension.py: the staged manifest lists the wheels and their platforms, and
Blender's builder splits the zip per platform with only that platform's wheels."""

from __future__ import annotations

import importlib.util
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_extension = load_tool("build_extension")
fetch_wheels = load_tool("fetch_wheels")

WHEELS = [
    "onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl",
    "onnxruntime-1.32.0-cp311-cp311-win_amd64.whl",
    "onnxruntime-1.32.0-cp311-cp311-macosx_14_0_arm64.whl",
    "protobuf-7.36.2-cp310-abi3-macosx_10_9_universal2.whl",
    "protobuf-7.36.2-cp310-abi3-manylinux2014_x86_64.whl",
    "protobuf-7.36.2-cp310-abi3-win_amd64.whl",
    "packaging-26.3-py3-none-any.whl",
]


def test_platforms_are_those_every_package_covers():
    paths = [Path(w) for w in WHEELS]
    assert build_extension.platforms_of(paths) == ["linux-x64", "macos-arm64", "windows-x64"]
    no_windows = [p for p in paths if not p.name.startswith("onnxruntime") or "win" not in p.name]
    assert build_extension.platforms_of(no_windows) == ["linux-x64", "macos-arm64"]
    assert build_extension.platforms_of([Path(WHEELS[-1])]) == []
    # A package with a pure-Python wheel (beside platform ones) is there everywhere.
    extra = [
        Path("sounddevice-0.5.6-py3-none-any.whl"),
        Path("sounddevice-0.5.6-py3-none-win_amd64.whl"),
    ]
    assert build_extension.platforms_of(paths + extra) == [
        "linux-x64",
        "macos-arm64",
        "windows-x64",
    ]


def test_staged_manifest_is_valid_toml_with_the_wheels():
    text = (REPO / "blender_manifest.toml").read_text()
    staged = tomllib.loads(
        build_extension.staged_manifest(
            text, [Path(w) for w in WHEELS], ["linux-x64", "windows-x64"]
        )
    )
    original = tomllib.loads(text)
    assert staged["wheels"] == [f"./wheels/{w}" for w in WHEELS]
    assert staged["platforms"] == ["linux-x64", "windows-x64"]
    assert staged["permissions"] == original["permissions"]
    assert staged["build"] == original["build"]


def test_runtime_pins_leave_numpy_to_blender():
    pins = fetch_wheels.runtime_pins()
    names = {pin.split("==")[0] for pin in pins}
    assert {"onnxruntime", "opencv-python-headless", "scipy", "soundfile", "onnx"} <= names
    assert "numpy" not in names and all("==" in pin for pin in pins)


@pytest.mark.skipif(importlib.util.find_spec("bpy") is None, reason="needs the bpy module")
def test_split_build_puts_each_platforms_wheels_in_its_zip(tmp_path, monkeypatch):
    repo = tmp_path / "repo"
    (repo / "wheels").mkdir(parents=True)
    for name in ("blender_manifest.toml", "__init__.py", "LICENSE"):
        (repo / name).write_bytes((REPO / name).read_bytes())
    for wheel in WHEELS:  # the builder reads wheel names, not their contents
        with zipfile.ZipFile(repo / "wheels" / wheel, "w") as zf:
            zf.writestr("placeholder.txt", wheel)
    monkeypatch.setattr(build_extension, "REPO", repo)
    zips = build_extension.build(tmp_path / "dist")
    assert [z.name for z in zips] == [
        "talking_head-0.1.0-linux_x64.zip",
        "talking_head-0.1.0-macos_arm64.zip",
        "talking_head-0.1.0-windows_x64.zip",
    ]
    linux = zipfile.ZipFile(zips[0]).namelist()
    assert "wheels/onnxruntime-1.32.0-cp311-cp311-manylinux_2_28_x86_64.whl" in linux
    assert "wheels/packaging-26.3-py3-none-any.whl" in linux
    assert not any("win_amd64" in n or "macosx" in n for n in linux)
    manifest = tomllib.loads(zipfile.ZipFile(zips[0]).read("blender_manifest.toml").decode())
    assert "linux-x64" in manifest["platforms"]
