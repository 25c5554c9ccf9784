"""Build and validate the extension zip with Blender's own builder (``make extension``).

The builder, ``blender_ext.py``, ships inside the ``bpy`` wheel; this finds it without
importing ``bpy``. The source is staged in a temporary folder so the manifest there can list
the wheels found in ``wheels/`` (see tools/fetch_wheels.py) and the platforms they cover;
with wheels it builds one zip per platform (``--split-platforms``). Without wheels it builds
one zip for any platform that relies on the Python it runs in for its dependencies (as the
tests do with the ``bpy`` module). Prints the path of each zip, and on stderr what the zips
run the models on: the CPU build of ONNX Runtime (onnxruntime-gpu and its CUDA libraries
are over a gigabyte of wheels; GPU takes are made from the command line, ``make setup-gpu``).

    python tools/build_extension.py [--output-dir dist] [--no-wheels]
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE_IGNORE = shutil.ignore_patterns(
    ".git", ".venv*", "out", "dist", "__pycache__", ".pytest_cache", ".ruff_cache", "tests", "tools"
)
# Wheel platform tag fragment -> Blender platform names it serves.
WHEEL_PLATFORMS = {
    "manylinux": ["linux-x64"],
    "linux_x86_64": ["linux-x64"],
    "win_amd64": ["windows-x64"],
    "macosx": ["macos-arm64"],
}


GPU_NOTE = (
    "note: the extension runs its models on the CPU build of ONNX Runtime (requirements.txt's "
    "onnxruntime); for an NVIDIA GPU, make takes from the command line after `make setup-gpu` "
    "(requirements-gpu.txt: onnxruntime-gpu and its CUDA/cuDNN wheels). The panel says which "
    "provider runs and why."
)


def builder() -> Path:
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise SystemExit("error: the bpy module is not installed; run `make setup` first.")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"error: blender_ext.py not found in {Path(spec.origin).parent}.")
    return found[-1]


def platforms_of(wheels: list[Path]) -> list[str]:
    """Blender platforms served by every platform-specific package among ``wheels``."""
    everywhere = {p for names in WHEEL_PLATFORMS.values() for p in names}
    per_package: dict[str, set[str]] = {}
    for wheel in wheels:
        package, tag = wheel.name.split("-")[0], wheel.stem.split("-")[-1]
        found = (
            everywhere
            if tag == "any"
            else {p for key, names in WHEEL_PLATFORMS.items() if key in tag for p in names}
        )
        per_package.setdefault(package, set()).update(found)
    if all(wheel.stem.endswith("-any") for wheel in wheels):
        return []  # pure-Python wheels only: no platform split needed
    return sorted(set.intersection(*per_package.values()))


def staged_manifest(text: str, wheels: list[Path], platforms: list[str]) -> str:
    """The manifest with ``wheels`` and ``platforms`` set (before the first table)."""
    text = re.sub(r"(?m)^(wheels|platforms)\s*=.*\n", "", text)
    listed = ",\n".join(f'  "./wheels/{w.name}"' for w in wheels)
    extra = f"platforms = {platforms!r}\nwheels = [\n{listed},\n]\n".replace("'", '"')
    head, sep, tail = text.partition("\n[")
    return f"{head}\n{extra}{sep}{tail}"


def build(output_dir: Path, use_wheels: bool = True) -> list[Path]:
    output_dir.mkdir(parents=True, exist_ok=True)
    for old in output_dir.glob("talking_head-*.zip"):
        old.unlink()
    wheels = sorted((REPO / "wheels").glob("*.whl")) if use_wheels else []
    tool = [sys.executable, str(builder())]
    with tempfile.TemporaryDirectory(prefix="talking_head_build_") as tmp:
        stage = Path(tmp) / "talking_head"
        shutil.copytree(REPO, stage, ignore=STAGE_IGNORE)
        if not use_wheels:
            shutil.rmtree(stage / "wheels", ignore_errors=True)
        cmd = tool + ["build", "--source-dir", str(stage), "--output-dir", str(output_dir)]
        if wheels:
            manifest = stage / "blender_manifest.toml"
            manifest.write_text(staged_manifest(manifest.read_text(), wheels, platforms_of(wheels)))
            cmd.append("--split-platforms")
        done = subprocess.run(cmd, capture_output=True, text=True)
    zips = sorted(output_dir.glob("talking_head-*.zip"))
    if done.returncode != 0 or not zips:
        raise SystemExit(f"error: the extension build failed:\n{done.stdout}{done.stderr}")
    for path in zips:
        check = subprocess.run(tool + ["validate", str(path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"error: {path.name} did not validate:\n{check.stdout}{check.stderr}")
    return zips


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist")
    parser.add_argument(
        "--no-wheels",
        action="store_true",
        help="leave wheels out (dependencies come from the running Python)",
    )
    args = parser.parse_args()
    for path in build(args.output_dir, not args.no_wheels):
        print(path)
    print(GPU_NOTE, file=sys.stderr)
