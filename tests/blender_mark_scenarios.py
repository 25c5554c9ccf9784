"""Blender scenarios for tests/test_blender_marks.py (run as blender_scenarios.py's are):

    python tests/blender_mark_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

The marks in the extension: the Generate panel's switches (Content Credentials, Sign
Frames, Watermark, Visible Label) passed to the engine and recorded in run.json, and
Verify Take reading a take's credentials and watermark back into the Takes panel.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import bpy
from blender_scenarios import MODULE, draw_panels, install, scene_with_inputs, take_info


def _verify(scene, take, frame: int) -> dict:
    """Verify Take on ``take`` with the playhead on its ``frame`` (1-based)."""
    state = scene.talking_head
    state.active_take = list(state.takes).index(take)
    scene.frame_set(take.frame_start + frame - 1)
    try:
        result = sorted(bpy.ops.talking_head.verify_take())[0]
    except RuntimeError as exc:
        result = f"error: {exc}"
    return {
        "result": result,
        "lines": take.verification.splitlines(),
        "status": state.status,
        "panel": draw_panels("VIEW_3D").get("labels", []),
    }


def marks(zip_path: str, work: Path, args: dict) -> dict:
    # The local signing key in this scenario's folder, never the user's.
    os.environ["XDG_DATA_HOME"] = str(work / "data")
    install(zip_path)
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    state = scene.talking_head
    defaults = {k: getattr(state, k) for k in ("credentials", "watermark", "label")}
    panel = draw_panels("VIEW_3D")
    out: dict = {"defaults": defaults, "props": panel.get("props", [])}
    cases = {
        "marked": {"watermark": True, "label": True, "credentials": True},
        "plain": {"watermark": False, "label": False, "credentials": False},
    }
    for name, switches in cases.items():
        for key, value in switches.items():
            setattr(state, key, value)
        bpy.ops.talking_head.generate()
        take = state.takes[len(state.takes) - 1]
        info = take_info(scene, take)
        record = json.loads((Path(info["folder"]) / "run.json").read_text())
        out[name] = {
            "folder": info["folder"],
            "n_frames": info["n_frames"],
            "settings": record["settings"],
            "take_settings": info["settings"],
            "watermark": record.get("watermark"),
            "status": record["status"],
            "verify": _verify(scene, take, 4),
        }
    # The signed frames' local key (PNG frames are signed by default): in the extension's
    # user folder, not the command line's.
    own = Path(bpy.utils.extension_path_user(MODULE, path="credentials"))
    out["key_files"] = {
        "extension": sorted(p.name for p in own.glob("*")) if own.is_dir() else [],
        "xdg": (work / "data" / "talking-head" / "credentials").exists(),
    }
    return out


SCENARIOS = {f.__name__: f for f in (marks,)}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    print("RESULT " + json.dumps(SCENARIOS[name](zip_path, work, payload)))
