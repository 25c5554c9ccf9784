"""Blender scenarios for tests/test_blender.py, one per process (the ``bpy`` module keeps
global state and cannot be reloaded).

    python tests/blender_scenarios.py SCENARIO ZIP WORKDIR [JSON-ARGS]

Installs the extension zip into the user folder that BLENDER_USER_RESOURCES names, runs the
scenario and prints one line ``RESULT {json}`` that the test reads and checks.
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import time
from importlib import import_module
from pathlib import Path

import bpy

MODULE = "bl_ext.user_default.talking_head"
SOUND_TEMPLATE = Path(__file__).with_name("data") / "blender" / "sound_strip.blend"


def ext(name: str):
    return import_module(f"{MODULE}.{name}")


def install(zip_path: str) -> None:
    bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True
    )
    assert MODULE in bpy.context.preferences.addons, "extension not enabled after install"


def image_plane(path: str, name: str = "Portrait") -> tuple:
    image = bpy.data.images.load(path)
    mesh = bpy.data.meshes.new(name)
    mesh.from_pydata([(-1, 0, -1), (1, 0, -1), (1, 0, 1), (-1, 0, 1)], [], [(0, 1, 2, 3)])
    obj = bpy.data.objects.new(name, mesh)
    bpy.context.scene.collection.objects.link(obj)
    mat = ext("vasa_blender.compat").node_material(name)
    tex = mat.node_tree.nodes.new("ShaderNodeTexImage")
    tex.image = image
    mat.node_tree.links.new(
        tex.outputs["Color"], mat.node_tree.nodes["Principled BSDF"].inputs["Base Color"]
    )
    mesh.materials.append(mat)
    return obj, tex, image


def scene_with_inputs(
    work: Path, image: str, audio: str, start: int = 10, channel: int = 2, fps: int = 12
):
    """A saved .blend with an image plane and a sound strip (and a blocker strip on the
    channel right above the sound, so the take has to find a free one)."""
    compat = ext("vasa_blender.compat")  # the extension's own version helpers
    if not bpy.app.build_options.audaspace:
        # bpy 4.2's wheel has no Audaspace, so it cannot make sound strips: the strips come
        # from a .blend that 4.5 saved (SOUND_TEMPLATE: "voice", a 2 s clip at 12 fps on
        # channel 2 from frame 10, and the blocker), the sound pointed at this audio.
        assert (start, channel, fps) == (10, 2, 12), "the template holds only this layout"
        bpy.ops.wm.open_mainfile(filepath=str(SOUND_TEMPLATE))
        scene = bpy.context.scene
        sound, blocker = compat.find_strip(scene, "voice"), compat.find_strip(scene, "blocker")
        sound.sound.filepath = audio
        plane, tex, image_db = image_plane(image)
    else:
        scene = bpy.context.scene
        scene.render.fps, scene.render.fps_base = fps, 1.0
        plane, tex, image_db = image_plane(image)
        sound = compat.strips(scene).new_sound("voice", audio, channel, start)
        blocker = compat.new_effect_strip(scene, "blocker", "COLOR", channel + 1, start, start + 5)
    scene.talking_head.source_object = plane
    scene.talking_head.sound_strip = sound.name
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "scene.blend"))
    return scene, plane, tex, image_db, sound, blocker


class FakeLayout:
    """Stands in for UILayout (which needs a window) and records what a panel draws."""

    def __init__(self, log: dict):
        self.__dict__["log"] = log

    def __setattr__(self, name, value):
        self.log.setdefault("set", []).append(name)

    def __getattr__(self, name):
        def record(*args, **kwargs):
            if name == "label":
                self.log.setdefault("labels", []).append(kwargs.get("text", ""))
            elif name == "operator":
                self.log.setdefault("operators", []).append(args[0])
            elif name in ("prop", "prop_search"):
                self.log.setdefault("props", []).append(args[1])
            return FakeLayout(self.log)

        return record


def draw_panels(space: str) -> dict:
    """What every Talking Head panel of one editor's sidebar draws now."""
    from types import SimpleNamespace

    log: dict = {}
    for name in dir(bpy.types):
        cls = getattr(bpy.types, name)
        if name.startswith("TALKING_HEAD_PT_") and cls.bl_space_type == space:
            cls.draw(SimpleNamespace(layout=FakeLayout(log)), bpy.context)
    return log


def digests(folder: str) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(Path(folder, "frames").iterdir())
    }


def take_info(scene, take) -> dict:
    compat = ext("vasa_blender.compat")
    strip = compat.find_strip(scene, take.strip)
    ctrl = take.controller
    curves = {}
    for fc in compat.fcurves(ctrl):
        values = [kp.co[1] for kp in fc.keyframe_points]
        frames = [kp.co[0] for kp in fc.keyframe_points]
        curves[f"{fc.data_path}[{fc.array_index}]"] = {
            "frames": frames,
            "values": values,
            "group": fc.group.name if fc.group else "",
        }
    return {
        "name": take.name,
        "folder": bpy.path.abspath(take.folder),
        "folder_raw": take.folder,
        "frame_start": take.frame_start,
        "n_frames": take.n_frames,
        "seed": take.seed,
        "fps": take.fps,
        "source": take.source,
        "sound_strip": take.sound_strip,
        "settings": json.loads(take.settings_json),
        "provider": take.provider,
        "strip": None
        if strip is None
        else {
            "name": strip.name,
            "type": strip.type,
            "channel": strip.channel,
            "frame_final_start": strip.frame_final_start,
            "frame_final_duration": strip.frame_final_duration,
            "elements": [e.filename for e in strip.elements],
            "directory": bpy.path.abspath(strip.directory),
            "directory_raw": strip.directory,
        },
        "controller": {
            "name": ctrl.name,
            "type": ctrl.type,
            "props": sorted(k for k in ctrl.keys() if not k.startswith("_")),
            "curves": curves,
        },
        "digests": digests(bpy.path.abspath(take.folder)),
    }


# --------------------------------------------------------------------------- scenarios


def register_cycle(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    seen = []

    def snapshot():
        addon = bpy.context.preferences.addons.get(MODULE)
        return {
            "scene_prop": hasattr(bpy.types.Scene, "talking_head"),
            "classes": sorted(n for n in dir(bpy.types) if n.startswith("TALKING_HEAD_")),
            "prefs": addon is not None and addon.preferences is not None,
            "handlers": sum(h.__module__.startswith(MODULE) for h in bpy.app.handlers.load_pre),
        }

    seen.append(snapshot())
    bpy.ops.preferences.addon_disable(module=MODULE)
    seen.append(snapshot())
    bpy.ops.preferences.addon_enable(module=MODULE)
    seen.append(snapshot())
    bpy.ops.preferences.addon_disable(module=MODULE)
    bpy.ops.preferences.addon_enable(module=MODULE)
    seen.append(snapshot())
    bpy.ops.preferences.addon_disable(module=MODULE)
    seen.append(snapshot())
    return {"snapshots": seen}


def generate(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    panels = {"empty": draw_panels("SEQUENCE_EDITOR")}
    scene, plane, tex, image_db, sound, blocker = scene_with_inputs(
        work, args["image"], args["audio"]
    )
    panels["ready"] = draw_panels("VIEW_3D")
    bpy.ops.talking_head.generate()
    panels["done"] = draw_panels("SEQUENCE_EDITOR")
    state = scene.talking_head
    first = take_info(scene, state.takes[0])
    first_tex = {
        "image": tex.image.name,
        "source": tex.image.source,
        "filepath": bpy.path.abspath(tex.image.filepath),
        "frame_start": tex.image_user.frame_start,
        "frame_duration": tex.image_user.frame_duration,
        "frame_offset": tex.image_user.frame_offset,
        "auto_refresh": tex.image_user.use_auto_refresh,
        "original": tex.image.get("talking_head_take"),
        "original_kept": state.takes[0].original_image == image_db,
    }
    # The plane now plays take_001; generating again still starts from the photo.
    state.seed, state.emotion, state.gaze_yaw, state.lipsync_mode = 7, "happy", 10.0, "acoustic"
    state.speaking_style = "animated"
    bpy.context.preferences.addons[MODULE].preferences.frame_format = "jpeg"
    bpy.ops.talking_head.generate()
    second = take_info(scene, state.takes[1])
    # Switch the plane back to the photo and to the take again.
    state.active_take = 0
    bpy.ops.talking_head.show_on_plane(show="PHOTO")
    photo_shown = tex.image == image_db
    bpy.ops.talking_head.show_on_plane(show="TAKE")
    take_shown = tex.image == state.takes[0].take_image
    bpy.ops.talking_head.select_controller()
    selected = bpy.context.view_layer.objects.active.name
    return {
        "first": first,
        "second": second,
        "texture": first_tex,
        "panels": panels,
        "first_after": digests(first["folder"]),
        "sound": {
            "channel": sound.channel,
            "frame_final_start": sound.frame_final_start,
            "frame_final_duration": sound.frame_final_duration,
        },
        "blocker_channel": blocker.channel,
        "photo_shown": photo_shown,
        "take_shown": take_shown,
        "selected": selected,
        "fps": scene.render.fps / scene.render.fps_base,
    }


def rerender(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    bpy.ops.talking_head.generate()
    take = scene.talking_head.takes[0]
    compat = ext("vasa_blender.compat")
    before = digests(bpy.path.abspath(take.folder))
    # 1. An animator sets head yaw to 18 degrees on three keys.
    yaw = compat.find_fcurve(take.controller, '["head_yaw"]')
    for k in args["yaw_keys"]:
        point = yaw.keyframe_points[k]
        point.co.y = point.handle_left.y = point.handle_right.y = 18.0
    yaw.update()
    bpy.ops.talking_head.rerender()
    after_yaw = digests(bpy.path.abspath(take.folder))
    rot = compat.find_fcurve(take.controller, "rotation_euler", 2)
    rotation_synced = [rot.keyframe_points[k].co.y for k in args["yaw_keys"]]
    # 2. Retiming: every jawOpen key moves later by `shift` frames.
    jaw = compat.find_fcurve(take.controller, '["jawOpen"]')
    jaw_before = [point.co.y for point in jaw.keyframe_points]
    for point in reversed(list(jaw.keyframe_points)):
        for attr in ("co", "handle_left", "handle_right"):
            getattr(point, attr).x += args["shift"]
    jaw.update()
    bpy.ops.talking_head.rerender()
    after_shift = digests(bpy.path.abspath(take.folder))
    folder = Path(bpy.path.abspath(take.folder))
    motion = ext("core.motion.track").MotionTrack.load(folder / "motion.npz")
    jaw_after = [float(v) for v in motion["jawOpen"]]
    # 3. Nothing changed: nothing is rendered.
    bpy.ops.talking_head.rerender()
    after_noop = digests(bpy.path.abspath(take.folder))
    # 4. The gizmo path: rotating the Empty (rotation keys) also drives the head.
    for k in args["pitch_keys"]:
        point = compat.find_fcurve(take.controller, "rotation_euler", 0).keyframe_points[k]
        point.co.y = point.handle_left.y = point.handle_right.y = -0.2  # pitch up 11.5 deg
    bpy.ops.talking_head.rerender()
    after_pitch = digests(bpy.path.abspath(take.folder))
    pitch_prop = compat.find_fcurve(take.controller, '["head_pitch"]')
    strip = compat.find_strip(scene, take.strip)
    return {
        "folder": bpy.path.abspath(take.folder),
        "before": before,
        "after_yaw": after_yaw,
        "after_shift": after_shift,
        "jaw_before": jaw_before,
        "jaw_after": jaw_after,
        "after_noop": after_noop,
        "after_pitch": after_pitch,
        "rotation_synced": rotation_synced,
        "pitch_prop": [pitch_prop.keyframe_points[k].co.y for k in args["pitch_keys"]],
        "n_strips": len(compat.all_strips(scene)),
        "strip_elements": len(strip.elements),
        "status": scene.talking_head.status,
    }


def _attempt(op) -> str:
    try:
        op()
    except RuntimeError as exc:
        return str(exc)
    return ""


def bad_inputs(zip_path: str, work: Path, args: dict) -> dict:
    install(zip_path)
    scene = bpy.context.scene
    state = scene.talking_head
    out = {}
    # An unsaved .blend: refused before anything happens.
    scene.render.fps = 12
    plane, tex, image_db = image_plane(args["image"])
    strips = ext("vasa_blender.compat").strips(scene)
    sound = strips.new_sound("voice", args["audio"], 1, 1)
    state.source_object, state.sound_strip = plane, sound.name
    out["unsaved"] = _attempt(bpy.ops.talking_head.generate)
    bpy.ops.wm.save_as_mainfile(filepath=str(work / "scene.blend"))
    bpy.ops.talking_head.generate()
    good = state.takes[0]
    good_digests = digests(bpy.path.abspath(good.folder))
    n_strips = len(strips)
    results = {}

    def case(name, setup, undo):
        setup()
        message = _attempt(bpy.ops.talking_head.generate)
        undo()
        results[name] = {
            "message": message,
            "takes": len(state.takes),
            "strips": len(strips),
            "folders": sorted(p.name for p in (work / "vasa").iterdir()),
        }

    def use_sound(path):
        def setup():
            s = strips.new_sound("other", path, 5, 1)
            state.sound_strip = s.name

        def undo():
            strips.remove(strips["other"])
            state.sound_strip = sound.name

        return setup, undo

    def use_image(path):
        def setup():
            state.source_kind, state.source_image = "IMAGE", bpy.data.images.load(path)

        def undo():
            state.source_kind = "PLANE"

        return setup, undo

    case("silent", *use_sound(args["silent"]))
    case("corrupt_sound", *use_sound(args["corrupt"]))
    case("no_face", *use_image(args["gray"]))
    missing = bpy.data.images.load(args["image"], check_existing=False)
    missing.filepath = str(work / "gone.png")
    case(
        "missing_image",
        lambda: (setattr(state, "source_kind", "IMAGE"), setattr(state, "source_image", missing)),
        lambda: setattr(state, "source_kind", "PLANE"),
    )
    prefs = bpy.context.preferences.addons[MODULE].preferences
    entry = prefs.packs.add()
    entry.path = args["bad_pack"]

    def use_pack():
        state.pack = bpy.path.abspath(args["bad_pack"])

    case("bad_pack", use_pack, lambda: None)
    # The scene keeps its pack folder even when the preferences' list changes.
    prefs.packs.remove(0)
    out["pack_kept"] = [state.pack_path, state.pack]
    state.pack = "BUILTIN"
    out["pack_builtin"] = state.pack_path
    if args.get("readonly"):
        case(
            "readonly",
            lambda: setattr(state, "takes_folder", args["readonly"]),
            lambda: setattr(state, "takes_folder", "//vasa/"),
        )
    # Cancel: the job's cancel event, set while frames are being written (as Esc does).
    generation = ext("vasa_blender.generation")
    plan = generation.plan(bpy.context)
    job = generation.make_job(plan)
    started = threading.Event()
    job_report = job._report

    def report(fraction, message):
        job_report(fraction, message)
        if message.startswith("Frame"):
            started.set()
            job.cancel()

    job._report = report
    job.start()
    job.wait(120)
    level, message = generation.finish(bpy.context.scene, plan, job)
    results["cancelled"] = {
        "message": message,
        "level": level,
        "takes": len(state.takes),
        "strips": len(strips),
        "folder_left": plan.folder.exists(),
        "reached_frames": started.is_set(),
    }
    out.update(
        cases=results,
        good_intact=digests(bpy.path.abspath(good.folder)) == good_digests,
        n_strips_before=n_strips,
        takes=len(state.takes),
    )
    return out


def modal(zip_path: str, work: Path, args: dict) -> dict:
    """The interactive path: a modal operator polling a worker on timer events (driven here
    by hand, as no window exists), Esc cancelling, and a file load cutting a job off."""
    from types import SimpleNamespace

    install(zip_path)
    scene, _plane, tex, photo, *_ = scene_with_inputs(work, args["image"], args["audio"])
    job_modal = ext("operators.job_modal")
    live = ext("vasa_blender.live")
    compat = ext("vasa_blender.compat")

    def preview() -> dict:
        """What the live preview shows now: its strips' frames, the plane's image."""
        strips = [s for s in compat.all_strips(scene) if s.get(live.PREVIEW_KEY)]
        return {
            "strips": [(s.frame_start, len(s.elements)) for s in strips],
            "plane": tex.image.name if tex.image is not None else None,
            "images": sorted(i.name for i in bpy.data.images if i.get(live.PREVIEW_KEY)),
        }

    generate_op = ext("operators.generate").TALKING_HEAD_OT_generate
    jobs = ext("vasa_blender.jobs")

    class Op(job_modal.JobOperator):
        prepare = generate_op.prepare

        def __init__(self):
            self.reports = []

        def report(self, level, message):
            self.reports.append((sorted(level)[0], message))

    removed = []
    wm = SimpleNamespace(windows=[], event_timer_remove=removed.append)
    context = SimpleNamespace(scene=scene, window_manager=wm)
    timer = SimpleNamespace(type="TIMER", value="NOTHING")
    esc = SimpleNamespace(type="ESC", value="PRESS")
    mouse = SimpleNamespace(type="MOUSEMOVE", value="NOTHING")

    def start(op):
        op._job, op._finish = op._begin(bpy.context)
        op._timer = "timer"
        op._job.start()

    def poll(op, cancel_at=None, watched=None):
        seen, result = [], None
        for _ in range(6000):
            if cancel_at is not None and op._job.progress >= cancel_at:
                result = op.modal(context, esc)
                assert result == {"RUNNING_MODAL"}, result
                cancel_at = None
            was_done = op._job.done
            result = op.modal(context, timer if len(seen) % 2 == 0 else mouse)
            seen.append((round(scene.talking_head.progress, 3), scene.talking_head.status))
            if watched is not None and not was_done and result == {"PASS_THROUGH"}:
                watched.append(preview())  # while the worker was still rendering
            if result != {"PASS_THROUGH"}:
                break
            op._job.wait(0.02)
        return result, seen

    out = {"photo": photo.name}
    op = Op()
    start(op)
    out["running_during"] = scene.talking_head.running and jobs.running_job() is not None
    watched: list = []
    result, seen = poll(op, watched=watched)
    out["watched"] = watched
    out["after"] = preview()
    out["done"] = {
        "result": sorted(result),
        "reports": op.reports,
        "progress": seen,
        "takes": len(scene.talking_head.takes),
        "n_frames": scene.talking_head.takes[0].n_frames if scene.talking_head.takes else 0,
        "running": scene.talking_head.running,
        "registered": jobs.running_job() is not None,
        "timer_removed": removed[:],
    }
    op = Op()
    start(op)
    result, seen = poll(op, cancel_at=0.3)
    out["after_esc"] = preview()
    out["esc"] = {
        "result": sorted(result),
        "reports": op.reports,
        "takes": len(scene.talking_head.takes),
        "folders": sorted(p.name for p in (work / "vasa").iterdir()),
    }
    op = Op()
    start(op)
    op._job.wait(0.5)
    bpy.ops.wm.read_homefile(use_empty=True)  # load_pre cuts the job off, without waiting
    registered = jobs.running_job() is not None
    job_done = op._job.wait(60)
    for _ in range(100):  # the folder goes right after the worker stops
        if len(list((work / "vasa").iterdir())) == 1:
            break
        time.sleep(0.05)
    out["abandoned"] = {
        "registered": registered,
        "job_done": job_done,
        "folders": sorted(p.name for p in (work / "vasa").iterdir()),
        "modal": sorted(op.modal(context, timer)),
    }
    return out


def live_preview(zip_path: str, work: Path, args: dict) -> dict:
    """The live preview on its own: frames appear in a folder as a re-render writes them
    (with a gap between two runs of changed frames), then it is closed."""
    import numpy as np

    install(zip_path)
    live = ext("vasa_blender.live")
    frame_name = ext("core.take.frames").frame_name
    scene = bpy.context.scene
    _plane, tex, photo = image_plane(args["image"])
    frames = work / "staging"
    frames.mkdir()

    def write(index: int) -> None:
        pixels = np.full((8, 8, 3), index * 20, np.uint8)
        ext("core.take.frames").write_atomic(
            frames / frame_name(index), ext("core.take.png").encode_png(pixels, {})
        )

    preview = live.LivePreview(scene, "take_009", frames, "png", [2, 3, 7, 8], 20, 1, tex)
    steps = [preview.update()]  # nothing written yet
    for index in (2, 3):
        write(index)
    steps.append(preview.update())
    after_run = [(s.frame_start, len(s.elements)) for s in compat_strips(scene)]
    live.IMAGE_REFRESH_S = 0.0  # every update re-reads the newest frame
    write(7)
    steps.append(preview.update())
    plane_value = round(tex.image.pixels[0] * 255) if tex.image is not None else None
    write(8)
    steps.append(preview.update())
    out = {
        "steps": steps,
        "after_run": after_run,
        "strips": [(s.frame_start, len(s.elements)) for s in compat_strips(scene)],
        "plane": tex.image.name,
        "plane_value": plane_value,
    }
    preview.close()
    # Blender's own PNG reader decodes a frame whose still pixels were deflated once.
    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (12, 16, 3), np.uint8)
    frame = base.copy()
    frame[3:9, 4:11] = rng.integers(0, 256, (6, 7, 3), np.uint8)
    still = ext("core.take.png").StillRegionPng(base, (4, 3, 11, 9), {"Software": "test"})
    (work / "region.png").write_bytes(still.encode(frame))
    loaded = bpy.data.images.load(str(work / "region.png"))
    pixels = np.array(loaded.pixels[:]).reshape(12, 16, 4)[::-1, :, :3]  # bottom row first
    out["blender_reads_region_png"] = bool(np.array_equal(np.rint(pixels * 255), frame))
    bpy.data.images.remove(loaded)
    out["closed"] = {
        "strips": len(compat_strips(scene)),
        "plane": tex.image.name,
        "photo": photo.name,
        "images": sorted(i.name for i in bpy.data.images),
    }
    return out


def compat_strips(scene) -> list:
    return list(ext("vasa_blender.compat").all_strips(scene))


def inspect_blend(zip_path: str, work: Path, args: dict) -> dict:
    """What a saved .blend (from scripts/batch.py) holds."""
    install(zip_path)
    bpy.ops.wm.open_mainfile(filepath=args["blend"])
    scene = bpy.context.scene
    state = scene.talking_head
    take = state.takes[state.active_take]
    info = take_info(scene, take)
    sounds = [s for s in ext("vasa_blender.compat").all_strips(scene) if s.type == "SOUND"]
    return {
        "take": info,
        "n_takes": len(state.takes),
        "fps": scene.render.fps,
        "sound": {
            "channel": sounds[0].channel,
            "start": sounds[0].frame_final_start,
            "duration": sounds[0].frame_final_duration,
        },
        "plane_image": ext("vasa_blender.sources").image_texture_node(take.plane).image.source,
    }


def standin_profile(zip_path: str, work: Path, args: dict) -> dict:
    """Generate (and re-render) with a pack of the stand-in profile, registered only through
    the extension's profile registry (tests/standin_profile.py)."""
    import standin_profile as standin

    install(zip_path)
    standin.register(ext("core.runtime.profiles"), ext("core.stages"))
    pack = standin.make_pack(ext("core.runtime.packs").BUILTIN_PACK_DIR, work / "tint_pack")
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    scene.talking_head.pack_path = str(pack)
    bpy.ops.talking_head.generate()
    take = scene.talking_head.takes[0]
    info = take_info(scene, take)
    # Re-render after keying the jaw fully open on the take's third frame.
    jaw = ext("vasa_blender.compat").find_fcurve(take.controller, '["jawOpen"]')
    point = jaw.keyframe_points[2]
    point.co.y = point.handle_left.y = point.handle_right.y = 1.0
    jaw.update()
    bpy.ops.talking_head.rerender()
    return {"take": info, "after": digests(info["folder"]), "status": scene.talking_head.status}


def turned_photo(zip_path: str, work: Path, args: dict) -> dict:
    """A phone photo stored turned (EXIF orientation) on a plane made to the stored pixels'
    proportions with a UV map, as Import Images as Planes and scripts/batch.py make one:
    Generate, Show Photo / Show Take, Generate again from the photo, save and reopen."""
    import numpy as np

    install(zip_path)
    scene, plane, tex, photo, sound, blocker = scene_with_inputs(work, args["image"], args["audio"])
    state = scene.talking_head
    stored = list(photo.size)
    mesh = plane.data
    mesh.clear_geometry()
    aspect = stored[0] / stored[1]
    corners = [(-aspect, 0, -1), (aspect, 0, -1), (aspect, 0, 1), (-aspect, 0, 1)]
    mesh.from_pydata(corners, [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new()
    for loop, co in zip(uv.data, [(0, 0), (1, 0), (1, 1), (0, 1)], strict=True):
        loop.uv = co

    def extent() -> list[float]:
        xs = [v.co.x for v in mesh.vertices]
        zs = [v.co.z for v in mesh.vertices]
        return [max(xs) - min(xs), max(zs) - min(zs)]

    def thumbnail(image) -> list:
        """8x8 block means of the RGB pixels, top row first."""
        w, h = image.size
        pixels = np.empty(w * h * 4, np.float32)
        image.pixels.foreach_get(pixels)
        top_first = pixels.reshape(h, w, 4)[::-1, :, :3]
        return top_first.reshape(8, h // 8, 8, w // 8, 3).mean(axis=(1, 3)).tolist()

    before = extent()
    bpy.ops.talking_head.generate()
    take = state.takes[0]
    shown = tex.image
    copy = take.original_image
    first = {
        "folder": bpy.path.abspath(take.folder),
        "shown": shown.name,
        "shown_is_take": shown == take.take_image,
        "take_image_size": list(take.take_image.size),
        "take_image_source": take.take_image.get("talking_head_take"),
        "extent": extent(),
        "copy": copy.name,
        "copy_size": list(copy.size),
        "copy_packed": copy.packed_file is not None,
        "copy_of": copy.get("talking_head_upright_of").name,
        "copy_thumbnail": thumbnail(copy),
        "photo_untouched": list(photo.size) == stored and photo.packed_file is None,
    }
    bpy.ops.talking_head.show_on_plane(show="PHOTO")
    photo_shown = tex.image == copy
    # Generate again while the plane shows the upright copy: the photo's file is read again.
    bpy.ops.talking_head.generate()
    second = state.takes[1]
    again = {
        "folder": bpy.path.abspath(second.folder),
        "extent": extent(),
        "copy": second.original_image.name,
        "copies": sorted(i.name for i in bpy.data.images if "talking_head_upright_of" in i),
        "shown_is_take": tex.image == second.take_image,
    }
    state.active_take = 0
    bpy.ops.talking_head.show_on_plane(show="PHOTO")
    bpy.ops.talking_head.show_on_plane(show="TAKE")
    take_shown = tex.image == state.takes[0].take_image
    blend = str(work / "scene.blend")
    bpy.ops.wm.save_mainfile(filepath=blend)
    bpy.ops.wm.open_mainfile(filepath=blend)
    reopened = bpy.data.images.get(first["copy"])
    # The photo is kept in the .blend (the copy holds it) and Generate works from it again.
    kept = bpy.data.images.get(Path(args["image"]).name) is not None
    scene = bpy.context.scene
    bpy.ops.talking_head.generate()
    third = len(scene.talking_head.takes)
    return {
        "photo_kept": kept,
        "takes_after_reopen": third,
        "stored_size": stored,
        "before": before,
        "first": first,
        "photo_shown": photo_shown,
        "second": again,
        "take_shown": take_shown,
        "reopened": None
        if reopened is None
        else {"size": list(reopened.size), "thumbnail": thumbnail(reopened)},
    }


def bundled_wheels(zip_path: str, work: Path, args: dict) -> dict:
    """Install a platform zip with its wheels into a clean user folder and generate a take,
    in a Python that has only bpy: where the engine's packages were imported from."""
    install(zip_path)
    scene, *_ = scene_with_inputs(work, args["image"], args["audio"])
    bpy.ops.talking_head.generate()
    take = scene.talking_head.takes[0]
    folder = Path(bpy.path.abspath(take.folder))
    record = json.loads((folder / "run.json").read_text())
    modules = {
        name: getattr(sys.modules.get(name), "__file__", None)
        for name in ("onnxruntime", "cv2", "scipy", "soundfile", "onnx", "pocketsphinx")
    }
    return {
        "status": record["status"],
        "n_frames": take.n_frames,
        "modules": modules,
        "frames": len(list((folder / "frames").glob("frame_*.png"))) - 1,  # less the hold frame 0,
    }


SCENARIOS = {
    f.__name__: f
    for f in (
        register_cycle,
        generate,
        rerender,
        bad_inputs,
        modal,
        live_preview,
        inspect_blend,
        standin_profile,
        turned_photo,
        bundled_wheels,
    )
}


if __name__ == "__main__":
    name, zip_path, work = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    payload = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
    result = SCENARIOS[name](zip_path, work, payload)
    print("RESULT " + json.dumps(result))
