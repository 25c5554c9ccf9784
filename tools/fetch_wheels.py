"""Download the engine's runtime wheels for every platform the extension ships for.

Blender bundles Python and numpy but not ONNX Runtime, OpenCV, SciPy, soundfile or onnx, so
the built extension carries them as wheels (Blender unpacks them on install; nothing is
fetched at run time). The versions are the pins of requirements.txt; numpy is left out
because Blender's own must be used. Run by ``make extension``; the wheels land in
``wheels/`` (not committed).

    python tools/fetch_wheels.py [--dest wheels] [--platform linux-x64 ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Blender platform -> pip platform tags that fit it.
PLATFORMS = {
    "linux-x64": [
        "manylinux_2_28_x86_64",
        "manylinux_2_27_x86_64",
        "manylinux_2_17_x86_64",
        "manylinux2014_x86_64",
    ],
    "windows-x64": ["win_amd64"],
    "macos-arm64": [f"macosx_{v}_0_arm64" for v in (15, 14, 13, 12, 11)],
}
# Provided by Blender itself, or only used outside it (the command line's MP4 muxing).
SKIP = {"numpy", "imageio-ffmpeg"}


def runtime_pins(requirements: Path = REPO / "requirements.txt") -> list[str]:
    pins = []
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and line.split("==")[0].lower() not in SKIP:
            pins.append(line)
    return pins


def fetch(dest: Path, platforms: list[str]) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    for platform in platforms:
        tags = [arg for tag in PLATFORMS[platform] for arg in ("--platform", tag)]
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--only-binary=:all:",
            "--python-version",
            "3.11",
            "--implementation",
            "cp",
            *tags,
            "--dest",
            str(dest),
            *runtime_pins(),
        ]
        subprocess.run(cmd, check=True)
    for wheel in dest.glob("numpy-*.whl"):  # pulled in as a dependency; Blender has its own
        wheel.unlink()
    return sorted(dest.glob("*.whl"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dest", type=Path, default=REPO / "wheels")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORMS))
    args = parser.parse_args()
    wheels = fetch(args.dest, args.platform or list(PLATFORMS))
    print(f"{len(wheels)} wheels in {args.dest}")
