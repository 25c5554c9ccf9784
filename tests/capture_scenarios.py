"""Blender scenario of Capture for tests/test_blender_capture.py (one process).

    python tests/capture_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

Same conventions as tests/blender_scenarios.py (whose helpers it uses): installs the zip,
runs the scenario, prints ``RESULT {json}``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import bpy
from blender_scenarios import _attempt, digests, ext, image_plane, install, take_info
from character_scenarios import head_mesh, keyed


def folders(work: Path) -> list[str]:
    root = work / "vasa"
    return sorted(p.name for p in root.iterdir()) if root.is_dir() else []


def capture(zip_path: str, work: Path, args: dict) -> dict:
    """Capture from a movie strip, Generate and Animate Character from that capture, a
    Re-render after editing its curves, bad videos and a cancel."""
    install(zip_path)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = args["fps"], 1.0
    state = scene.talking_head
    plane, *_ = image_plane(args["image"])
    state.source_object = plane
    strips = ext("vasa_blender.compat").strips(scene)
    strips.new_movie("reference", args["clip"], 3, 1)
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "scene.blend"))
    out: dict = {"no_generate_yet": _attempt(bpy.ops.talking_head.generate)}
    # 1. Capture the only movie strip (no strip chosen).
    bpy.ops.talking_head.capture()
    out["captured"] = {
        "status": state.status,
        "motion_file": state.motion_file,
        "character_motion_file": state.character.motion_file,
        "folders": folders(work),
        "takes": len(state.takes),
    }
    # 2. Generate from the captured motion: no sound strip in the scene.
    bpy.ops.talking_head.generate()
    take = state.takes[0]
    out["generated"] = {**take_info(scene, take), "status": state.status}
    # Re-render after an animator edits the captured jaw on one key.
    before = digests(bpy.path.abspath(take.folder))
    jaw = ext("vasa_blender.compat").find_fcurve(take.controller, '["jawOpen"]')
    point = jaw.keyframe_points[args["edit_key"]]
    point.co.y = point.handle_left.y = point.handle_right.y = 1.0
    jaw.update()
    bpy.ops.talking_head.rerender()
    after = digests(bpy.path.abspath(take.folder))
    out["rerender"] = {
        "changed": sorted(name for name in before if before[name] != after[name]),
        "status": state.status,
    }
    # 3. Animate Character from the same captured motion.
    head = head_mesh("Head", ["jawOpen", "eyeBlinkLeft"])
    state.character.target = head
    bpy.ops.talking_head.animate_character()
    out["character"] = {"status": state.status, "key": keyed(head.data.shape_keys)}
    # 4. Bad videos: one sentence each, no folder left, the Motion File kept.
    results = {}

    def attempt(name: str) -> None:
        results[name] = {
            "message": _attempt(bpy.ops.talking_head.capture),
            "folders": folders(work),
            "motion_file": state.motion_file,
        }

    strips.new_movie("blank", args["bad"]["no_face"], 4, 1)
    attempt("several_strips")
    state.capture.strip = "blank"
    attempt("strip_no_face")
    state.capture.kind = "FILE"
    for name in ("no_face", "vfr", "corrupt"):
        state.capture.file = args["bad"][name]
        attempt(name)
    state.capture.file = str(work / "missing.mp4")
    attempt("missing")
    # 5. Cancel while frames are read (as Esc does): nothing left, the Motion File kept.
    state.capture.file = args["clip"]
    capturing = ext("vasa_blender.capturing")
    plan = capturing.plan(bpy.context)
    job = capturing.make_job(plan)
    report = job._report

    def cancel_on_frames(fraction, message):
        report(fraction, message)
        if message.startswith("Frame"):
            job.cancel()

    job._report = cancel_on_frames
    job.start()
    job.wait(120)
    level, message = capturing.finish(scene, plan, job)
    results["cancelled"] = {
        "level": level,
        "message": message,
        "folder_left": plan.folder.exists(),
        "motion_file": state.motion_file,
    }
    out["bad"] = results
    return out


SCENARIOS = {f.__name__: f for f in (capture,)}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    result = SCENARIOS[name](zip_path, work, payload)
    print("RESULT " + json.dumps(result))
