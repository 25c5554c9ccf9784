"""Build and validate the extension zip with Blender's own builder (``make extension``).

The builder, ``blender_ext.py``, ships inside the ``bpy`` wheel; this finds it without
importing ``bpy`` and runs ``build`` then ``validate``. Prints the zip's path.

    python tools/build_extension.py [--output-dir dist]
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def builder() -> Path:
    spec = importlib.util.find_spec("bpy")
    if spec is None or spec.origin is None:
        raise SystemExit("error: the bpy module is not installed; run `make setup` first.")
    found = sorted(Path(spec.origin).parent.glob("*/scripts/addons_core/bl_pkg/cli/"
                                                 "blender_ext.py"))
    if not found:
        raise SystemExit(f"error: blender_ext.py not found in {Path(spec.origin).parent}.")
    return found[-1]


def build(output_dir: Path) -> Path:
    output_dir.mkdir(parents=True, exist_ok=True)
    tool = [sys.executable, str(builder())]
    for old in output_dir.glob("talking_head-*.zip"):
        old.unlink()
    done = subprocess.run(tool + ["build", "--source-dir", str(REPO), "--output-dir",
                                  str(output_dir)], capture_output=True, text=True)
    zips = sorted(output_dir.glob("talking_head-*.zip"))
    if done.returncode != 0 or len(zips) != 1:
        raise SystemExit(f"error: the extension build failed:\n{done.stdout}{done.stderr}")
    check = subprocess.run(tool + ["validate", str(zips[0])], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(f"error: {zips[0].name} did not validate:\n{check.stdout}"
                         f"{check.stderr}")
    return zips[0]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist")
    print(build(parser.parse_args().output_dir))
