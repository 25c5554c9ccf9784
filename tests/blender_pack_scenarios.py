"""Blender scenarios for tests/test_blender_packs.py (run as blender_scenarios.py's are):

    python tests/blender_pack_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

Neural packs in the extension: the preferences' Add Model Pack Folder on a folder of
LivePortrait stand-in files (tests/neural_standins.py) and on broken ones, then Generate on
an image plane with the pack selected.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import bpy
import neural_standins as standins
from blender_scenarios import (
    MODULE,
    FakeLayout,
    draw_panels,
    ext,
    install,
    scene_with_inputs,
    take_info,
)


def _add(folder: Path) -> tuple[str, list[str]]:
    """Run Add Model Pack Folder; (result, error lines)."""
    try:
        result = bpy.ops.talking_head.pack_add(directory=str(folder))
    except RuntimeError as exc:  # an operator's ERROR reports, in background mode
        return "CANCELLED", [line for line in str(exc).splitlines() if line.strip()]
    return sorted(result)[0], []


def neural_generate(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    prefs = bpy.context.preferences.addons[MODULE].preferences
    # Broken folders first: nothing is added, one sentence per bad file.
    empty = work / "empty"
    empty.mkdir()
    bad = standins.liveportrait_folder(work / "bad", optional=False)
    (bad / "warping_spade.onnx").unlink()
    (bad / "stitching.onnx").write_bytes(b"not an onnx file")
    bad_result = {"empty": _add(empty), "bad": _add(bad), "listed": len(prefs.packs)}
    # A folder of stand-in files: checked, pack.toml written, listed and selected.
    folder = standins.liveportrait_folder(work / "lp_pack")
    added, errors = _add(folder)
    toml = (folder / "pack.toml").is_file()
    prefs_log: dict = {}
    view = SimpleNamespace(
        layout=FakeLayout(prefs_log),
        packs=prefs.packs,
        active_pack=prefs.active_pack,
        provider=prefs.provider,
    )
    type(prefs).draw(view, bpy.context)
    again = _add(folder)  # the same folder twice is listed once
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    state = scene.talking_head
    # The picker's items (a dynamic enum: its RNA lists none, so from its items callback).
    items = [item[0] for item in ext("vasa_blender.props")._pack_items(state, bpy.context)]
    state.pack = str(folder)
    panels = draw_panels("VIEW_3D")
    bpy.ops.talking_head.generate()
    take = state.takes[0]
    info = take_info(scene, take)
    record = json.loads((Path(info["folder"]) / "run.json").read_text())
    frames = sorted(p.name for p in (Path(info["folder"]) / "frames").glob("frame_*.png"))
    return {
        "bad": bad_result,
        "added": added,
        "errors": errors,
        "again": again,
        "packs": [p.path for p in prefs.packs],
        "active_pack": prefs.active_pack,
        "toml": toml,
        "items": items,
        "pack_path": state.pack_path,
        "labels": panels.get("labels", []),
        "prefs_labels": prefs_log.get("labels", []),
        "record": {
            "status": record["status"],
            "pack": record["pack"],
            "providers": record["providers"],
            "frames_written": record["frames_written"],
            "n_frames": record["n_frames"],
        },
        "frames": frames,
        "take": {k: info[k] for k in ("n_frames", "provider", "folder")},
        "status": state.status,
        "renderer_module": ext("core.render.liveportrait").__name__,
    }


SCENARIOS = {f.__name__: f for f in (neural_generate,)}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    print("RESULT " + json.dumps(SCENARIOS[name](zip_path, work, payload)))
