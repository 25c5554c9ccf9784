"""Running the extension in Blender for the tests: the zip, and a scenario in a process of
its own.

The zip is built and validated with Blender's own extension builder (as ``make extension``
does, without the dependency wheels); a scenario is a function of a ``*_scenarios.py``
script run by the bpy module with a fresh user folder, which prints its result as one
``RESULT {json}`` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def build_extension_zip(folder: Path) -> Path:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "build_extension.py"),
            "--no-wheels",
            "--output-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return Path(done.stdout.strip().splitlines()[-1])


def run_scenario(script: Path, name: str, zip_path: Path, work: Path, /, **args) -> dict:
    """``name`` of ``script`` in a Blender process of its own; what it reported."""
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(work / "user"))
    proc = subprocess.run(
        [sys.executable, str(script), name, str(zip_path), str(work)]
        + [json.dumps(args, default=str)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (
        f"scenario {name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return json.loads(lines[-1].removeprefix("RESULT "))
