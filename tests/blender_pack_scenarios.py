"""Blender scenarios for tests/test_blender_packs.py (run as blender_scenarios.py's are):

    python tests/blender_pack_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

Neural packs in the extension: the preferences' Add Model Pack Folder on a folder of
LivePortrait stand-in files (tests/neural_standins.py) and on broken ones, then Generate on
an image plane with the pack selected; Generate with a Ditto stand-in pack, its lp_ curves,
and Re-render of an edited one.
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
    digests,
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


def ditto_generate(zip_path: str, work: Path, args: dict) -> dict:
    """Generate with a Ditto stand-in pack on an image plane: the take's lp_exp_* channels
    keyed as curves (signed values, soft limits, their own group); then one lp_ curve
    edited on a few keys and Re-rendered."""
    import numpy as np

    install(zip_path)
    compat = ext("vasa_blender.compat")
    folder = standins.ditto_folder(work / "ditto_pack")
    added, errors = _add(folder)
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    state = scene.talking_head
    state.pack = str(folder)
    bpy.ops.talking_head.generate()
    take = state.takes[0]
    info = take_info(scene, take)
    take_folder = Path(info["folder"])
    record = json.loads((take_folder / "run.json").read_text())
    track = ext("core.motion.track").MotionTrack.load(take_folder / "motion.npz")
    ctrl = take.controller
    lp = [name for name in track.channels if name.startswith("lp_")]
    # The property as the animation system sets it at a frame (clamped to its hard range).
    evaluated: dict[str, list[float]] = {name: [] for name in lp}
    for i in range(track.n_frames):
        scene.frame_set(take.frame_start + i)
        for name in lp:
            evaluated[name].append(float(ctrl[name]))
    ui = {name: ctrl.id_properties_ui(name).as_dict() for name in lp}
    # The animator pushes the lp_ channel that moves most past its generated range on a
    # few keys (key and handles, so the frames between keys keep their values).
    edited = max(lp, key=lambda name: float(np.ptp(track[name])))
    curve = compat.find_fcurve(ctrl, f'["{edited}"]')
    low = float(track[edited].min())
    for k in args["lp_keys"]:
        point = curve.keyframe_points[k]
        point.co.y = point.handle_left.y = point.handle_right.y = low - 0.04
    curve.update()
    before = digests(str(take_folder))
    bpy.ops.talking_head.rerender()
    after = digests(str(take_folder))
    again = ext("core.motion.track").MotionTrack.load(take_folder / "motion.npz")
    return {
        "added": added,
        "errors": errors,
        "record": {
            "status": record["status"],
            "pack": record["pack"],
            "frames_written": record["frames_written"],
            "n_frames": record["n_frames"],
            "generator": record.get("motion", {}).get("generator"),
        },
        "take": {k: info[k] for k in ("n_frames", "frame_start")},
        "channels": list(track.channels),
        "values": {name: [float(v) for v in track[name]] for name in lp},
        "curves": {name: info["controller"]["curves"][f'["{name}"][0]'] for name in lp},
        "evaluated": evaluated,
        "ui": {
            name: {k: float(v) for k, v in d.items() if k in ("min", "max", "soft_min", "soft_max")}
            for name, d in ui.items()
        },
        "edited": edited,
        "edited_value": low - 0.04,
        "edited_after": [float(v) for v in again[edited]],
        "before": before,
        "after": after,
        "status": state.status,
    }


SCENARIOS = {f.__name__: f for f in (neural_generate, ditto_generate)}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    print("RESULT " + json.dumps(SCENARIOS[name](zip_path, work, payload)))
