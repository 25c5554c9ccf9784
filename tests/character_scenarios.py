"""Blender scenarios of Animate Character for tests/test_character.py (one per process).

    python tests/character_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

Same conventions as tests/blender_scenarios.py (whose helpers it uses): installs the zip,
runs the scenario, prints ``RESULT {json}``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import bpy
import numpy as np
from blender_scenarios import _attempt, ext, install, scene_with_inputs


def head_mesh(name: str, keys: list[str]) -> bpy.types.Object:
    """A small grid mesh with a basis and the given shape keys (each moves the vertices)."""
    mesh = bpy.data.meshes.new(name)
    verts = [(x * 0.1, 0.0, z * 0.1) for z in range(4) for x in range(4)]
    faces = [
        (z * 4 + x, z * 4 + x + 1, z * 4 + x + 5, z * 4 + x + 4) for z in range(3) for x in range(3)
    ]
    mesh.from_pydata(verts, [], faces)
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    obj.shape_key_add(name="Basis")
    for i, key in enumerate(keys):
        block = obj.shape_key_add(name=key)
        block.data[i % 16].co.y -= 0.05
    return obj


def keyed(datablock) -> dict[str, list[list[float]]]:
    """Every F-curve of ``datablock``'s current action slot: path[index] -> [[frame, value]]."""
    compat = ext("vasa_blender.compat")
    out = {}
    for curve in compat.fcurves(datablock):
        co = np.empty(2 * len(curve.keyframe_points), np.float32)
        curve.keyframe_points.foreach_get("co", co)
        out[f"{curve.data_path}[{curve.array_index}]"] = co.reshape(-1, 2).tolist()
    return out


def action_info(datablock) -> dict:
    anim = datablock.animation_data
    action = anim.action if anim else None
    return {
        "action": action.name if action else None,
        "slot": getattr(anim.action_slot, "name_display", None) if anim and action else None,
        "fake_user": bool(action.use_fake_user) if action else False,
    }


def animate(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    scene, plane, *_ = scene_with_inputs(work, args["image"], args["audio"])
    state = scene.talking_head
    char = state.character
    out: dict = {"slotted": ext("vasa_blender.compat").SLOTTED_ACTIONS}
    # A mesh without shape keys: refused with one sentence.
    char.target = plane
    out["no_keys"] = _attempt(bpy.ops.talking_head.animate_character)
    # Take 1: a mesh with ARKit names in several spellings and one mapped name.
    head = head_mesh("Head", ["JawOpen", "eye_blink_left", "EYE-BLINK-RIGHT", "Smile_L"])
    char.target = head
    char.head_target = head
    row = char.mapping.add()
    row.channel, row.shape_key = "mouthSmileLeft", "smile_l"
    bpy.ops.talking_head.animate_character()
    out["status1"] = state.status
    key_id = head.data.shape_keys
    out["take1"] = {"key": keyed(key_id), "obj": keyed(head), **action_info(key_id)}
    out["take1_obj_action"] = action_info(head)
    out["take1_folder"] = str(Path(bpy.path.abspath(state.takes_folder)) / "take_001")
    # Take 2: an armature whose children are Head and a mesh with other names plus a mapping;
    # the head turns a bone.
    arm_data = bpy.data.armatures.new("Rig")
    rig = bpy.data.objects.new("Rig", arm_data)
    scene.collection.objects.link(rig)
    bpy.context.view_layer.objects.active = rig
    bpy.ops.object.mode_set(mode="EDIT")
    bone = arm_data.edit_bones.new("head")
    bone.head, bone.tail = (0, 0, 0), (0, 0, 0.3)
    bpy.ops.object.mode_set(mode="OBJECT")
    teeth = head_mesh("Teeth", ["MouthOpenCustom"])
    head.parent = rig
    teeth.parent = rig
    row = char.mapping.add()
    row.channel, row.shape_key = "jawOpen", "MouthOpenCustom"
    char.target = rig
    char.head_target, char.head_bone = rig, "head"
    state.seed = 3
    bpy.ops.talking_head.animate_character()
    out["status2"] = state.status
    out["take2"] = {
        "head_key": {"curves": keyed(key_id), **action_info(key_id)},
        "teeth_key": {"curves": keyed(teeth.data.shape_keys), **action_info(teeth.data.shape_keys)},
        "rig": {"curves": keyed(rig), **action_info(rig)},
        "bone_mode": rig.pose.bones["head"].rotation_mode,
    }
    out["take2_folder"] = str(Path(bpy.path.abspath(state.takes_folder)) / "take_002")
    out["actions"] = sorted(a.name for a in bpy.data.actions)
    # The first take's Action still holds its keys: put it back on the mesh and read them.
    first = bpy.data.actions[out["take1"]["action"]]
    ext("vasa_blender.compat").bind_new_action(key_id, first)
    out["take1_again"] = keyed(key_id)
    # No sound strip, and a motion file that is not one: one sentence each.
    editor = scene.sequence_editor
    strips = ext("vasa_blender.compat").strips(scene)
    for strip in list(strips):
        if strip.type == "SOUND":
            strips.remove(strip)
    state.sound_strip = ""
    out["no_sound"] = _attempt(bpy.ops.talking_head.animate_character)
    bad = work / "bad.npz"
    bad.write_bytes(b"not a zip")
    char.motion_file = str(bad)
    out["bad_motion"] = _attempt(bpy.ops.talking_head.animate_character)
    # A motion file (the first take's, at its 12 fps) instead of the voice.
    char.motion_file = str(Path(out["take1_folder"]) / "motion.npz")
    char.target, char.head_target = head, None
    bpy.ops.talking_head.animate_character()
    out["status3"] = state.status
    out["take3"] = keyed(key_id)
    del editor
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "character.blend"))
    return out


def batch(zip_path: str, work: Path, args: dict) -> dict:
    """scripts/batch.py's character mode, four runs in this one process (its ``main``, as
    ``python scripts/batch.py`` calls it): the voice (or, without Audaspace, a motion file)
    into result.blend, a take's motion into again.blend, result.blend again (refused) and an
    object that is not there (refused); each saved .blend is opened and read back."""
    import contextlib
    import importlib.util
    import io

    spec = importlib.util.spec_from_file_location("batch_script", args["script"])
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    char, out = work / "char.blend", work / "takes"
    head_mesh("Face", ["jawOpen", "Eye_Blink_Left", "mouthPucker"])
    bpy.ops.wm.save_as_mainfile(filepath=str(char))
    common = ["--character-blend", str(char), "--character", "Face", "--out", str(out)]

    def run(*flags: str) -> dict:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = script.main(["batch.py", "--", *common, *flags])
        return {"code": code, "stderr": err.getvalue()}

    def look(blend: Path) -> dict:
        bpy.ops.wm.open_mainfile(filepath=str(blend))
        key_id = bpy.data.objects["Face"].data.shape_keys
        return {"key": keyed(key_id), **action_info(key_id)}

    result: dict = {"has_sound": bool(bpy.app.build_options.audaspace)}
    first = ["--extension", zip_path, "--blend", str(work / "result.blend")]
    if result["has_sound"]:
        result["voice"] = run(*first, "--audio", args["audio"])
    else:  # bpy 4.2's wheel cannot make sound strips: a motion file instead
        result["voice"] = run(*first, "--motion", args["motion"])
    result["result"] = look(work / "result.blend")
    take = str(out / "take_001" / "motion.npz")
    result["again"] = run("--motion", take, "--blend", str(work / "again.blend"))
    result["again_blend"] = look(work / "again.blend")
    before = hashlib.sha256((work / "result.blend").read_bytes()).hexdigest()
    result["overwrite"] = run("--motion", take, "--blend", str(work / "result.blend"))
    after = hashlib.sha256((work / "result.blend").read_bytes()).hexdigest()
    result["overwrite"]["unchanged"] = before == after
    common[3] = "Nobody"
    result["nobody"] = run("--motion", take, "--blend", str(work / "x.blend"))
    return result


SCENARIOS = {f.__name__: f for f in (animate, batch)}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    result = SCENARIOS[name](zip_path, work, payload)
    print("RESULT " + json.dumps(result))
