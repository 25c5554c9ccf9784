"""Batch: one portrait and one voice to a saved .blend (and optionally an MP4), headless;
or every clip of a manifest, one .blend each, as a render-farm task.

    blender -b -P scripts/batch.py -- --image I --audio A --out DIR [--blend F.blend]
                                      [--video F.mp4] [--seed N] [--fps 25] [--extension ZIP]
                                      [--label] [--no-watermark] [--no-credentials]
    blender -b -P scripts/batch.py -- --manifest clips.csv --out DIR [--shard I/N]
                                      [--summary-only] [--extension ZIP] [setting flags]
    blender -b -P scripts/batch.py -- --character-blend CHAR.blend --character OBJECT
                                      (--audio A | --motion motion.npz) --out DIR
                                      --blend OUT.blend [--seed N] [--extension ZIP]
    python scripts/batch.py ...                                    (with the bpy module)

With ``--character-blend`` it opens that .blend, makes the motion of OBJECT (a mesh with
ARKit-named shape keys, or an armature whose child meshes have them) from the voice (a sound
strip is added at the scene's first frame) or from a motion file, writes the take's files in
``DIR/take_NNN/``, keys the shape keys through the extension's *Animate Character* (the
mapping table and head and eye targets saved in the .blend are used) and saves OUT.blend,
never over an existing file.

With ``--manifest`` (the CSV of ``python -m core batch``: image, audio, name, settings by
flag name) each clip of the shard becomes ``DIR/<name>/<name>.blend`` with its take in
``DIR/<name>/take_001/``, made through the extension's Generate; complete clips are skipped,
a claim keeps workers apart, and ``DIR/batch.json`` (or ``batch-shard-I-of-N.json``) sums it
up. Exit status as ``python -m core batch``: 0, 1 when a clip failed, 2, 130.

It enables the Talking Head extension (installing ``--extension ZIP``, or the zip that
``make extension`` left in ``dist/``, when it is not installed yet), builds a scene with an
upright image plane, the sound strip on channel 1 from frame 1, and generates a take into
``DIR`` (``DIR/take_001/...``; a second run makes ``take_002``). It saves the .blend
(default ``DIR/<image name>.blend``, then ``<image name>_2.blend``...; an existing file is
never overwritten); with ``--video`` it renders the sequencer to an MP4 with AAC sound
through Blender's FFmpeg output and signs it with Content Credentials (the take's facts, as
``python -m core generate --video`` does; not with ``--no-credentials``). The take's frames
carry the invisible watermark unless ``--no-watermark``, and a visible "AI-generated" label
with ``--label`` (README "Responsible use"). Errors print one ``error:`` line and exit 2;
what can be checked up front (the inputs, ``--fps``, that ``--out``, ``--blend`` and
``--video`` can be written) is checked before anything is made, and folders the run made are
removed again when it made nothing. Ctrl-C (or SIGTERM) cancels Generate as Esc does in
Blender: the take is removed, the .blend is not saved, exit status 130.
"""

from __future__ import annotations

import argparse
import importlib
import math
import shutil
import signal
import sys
from pathlib import Path

import bpy

EXTENSION_ID = "talking_head"
REPO_ROOT = Path(__file__).resolve().parents[1]


class BatchError(Exception):
    pass


def parse(argv: list[str]) -> argparse.Namespace:
    """Arguments after ``--`` (Blender's own come before it), else all but the script's."""
    argv = argv[argv.index("--") + 1 :] if "--" in argv else argv[1:]
    if "--manifest" in argv:
        return parse_manifest_mode(argv)
    if "--character-blend" in argv:
        return parse_character_mode(argv)
    p = argparse.ArgumentParser(prog="batch.py", description=__doc__.split("\n")[0])
    p.add_argument("--image", required=True, type=Path)
    p.add_argument("--audio", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder for the takes")
    p.add_argument("--blend", type=Path, help="where to save the .blend")
    p.add_argument("--video", type=Path, help="also render the sequencer to this MP4")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fps", type=float, default=25.0, help="frame rate, e.g. 25 or 23.976")
    p.add_argument(
        "--extension",
        type=Path,
        help="install this extension zip first (default: use the installed one)",
    )
    p.add_argument(
        "--label", action="store_true", help='a visible "AI-generated" label on every frame'
    )
    p.add_argument(
        "--no-watermark",
        dest="watermark",
        action="store_false",
        help="no invisible watermark in the frames (they no longer say they are AI-generated "
        "once re-encoded)",
    )
    p.add_argument(
        "--no-credentials",
        dest="credentials",
        action="store_false",
        help="do not sign the --video MP4 with Content Credentials",
    )
    return p.parse_args(argv)


def parse_manifest_mode(argv: list[str]) -> argparse.Namespace:
    """``--manifest`` mode: its own flags; every other token is a setting flag for all clips
    (checked with the manifest, by the engine's parser)."""
    p = argparse.ArgumentParser(prog="batch.py --manifest")
    p.add_argument("--manifest", required=True, type=Path)
    p.add_argument("--out", required=True, type=Path, help="folder for the clips")
    p.add_argument("--shard", default="1/1")
    p.add_argument("--summary-only", action="store_true")
    p.add_argument("--extension", type=Path)
    args, settings = p.parse_known_args(argv)
    args.settings = settings
    return args


def enabled_module() -> str | None:
    for name in bpy.context.preferences.addons.keys():
        if name == EXTENSION_ID or name.endswith("." + EXTENSION_ID):
            return name
    return None


def enable_extension(zip_path: Path | None) -> str:
    """The module name of the enabled extension: ``zip_path`` installed (replacing any
    installed copy), else the installed one, else the zip in ``dist/``."""
    if zip_path is None:
        module = enabled_module()
        if module:
            return module
        import addon_utils

        for mod in addon_utils.modules(refresh=True):
            if mod.__name__.endswith("." + EXTENSION_ID):
                bpy.ops.preferences.addon_enable(module=mod.__name__)
                return mod.__name__
        built = sorted((REPO_ROOT / "dist").glob(f"{EXTENSION_ID}-*.zip"))
        zip_path = built[-1] if built else None
    if zip_path is None or not zip_path.is_file():
        raise BatchError(
            "The Talking Head extension is not installed; run `make extension` "
            "or pass --extension with its zip."
        )
    bpy.ops.extensions.package_install_files(
        filepath=str(zip_path.resolve()), repo="user_default", enable_on_install=True
    )
    module = enabled_module()
    if module is None:
        raise BatchError(
            f"Installing {zip_path.name} did not enable the extension; check "
            "Blender's console output."
        )
    return module


def one_line(exc: BaseException) -> str:
    """The first line of a Blender operator's error, without its ``Error:`` prefix."""
    text = str(exc).strip().removeprefix("Error: ").strip()
    return (text.splitlines() or ["unknown error"])[0].rstrip(".")


def set_fps(scene: bpy.types.Scene, fps: float) -> None:
    """``fps`` as Blender's whole-number rate over a base (23.976 is 24 / 1.001...)."""
    scene.render.fps = max(1, round(fps))
    scene.render.fps_base = scene.render.fps / fps


def missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its ancestors that do not exist yet."""
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def check_folder(module: str, folder: Path, what: str) -> None:
    """One sentence unless ``folder`` is a writable folder or can be made as one (the
    engine's own check, so the command line and the batch say the same)."""
    frames = importlib.import_module(f"{module}.core.take.frames")
    errors = importlib.import_module(f"{module}.core.errors")
    try:
        frames.check_writable_folder(folder, what)
    except errors.VasaError as exc:
        raise BatchError(str(exc)) from exc


def check_new_file(module: str, path: Path, flag: str, suffix: str | None = None) -> None:
    """One sentence unless a new file can be written at ``path`` (never over an old one)."""
    if path.exists() or path.is_symlink():
        raise BatchError(
            f"{path} already exists; choose another {flag} path (an "
            "existing file is never overwritten)."
        )
    if suffix and path.suffix.lower() != suffix:
        raise BatchError(
            f"{flag} {path} must end in {suffix}; for example "
            f"{flag} {path.with_name(path.stem + suffix)}."
        )
    check_folder(module, path.parent, f"{flag} {path}")


class _Interrupt:
    """The extension whose Generate is running (then Ctrl-C cancels its job), and whether
    Ctrl-C was pressed meanwhile."""

    module: str | None = None
    pressed = False


def on_interrupt(signum, frame) -> None:
    """Ctrl-C and SIGTERM: while Generate runs, cancel its job as Esc does in Blender (a
    KeyboardInterrupt inside the operator would be printed as its traceback and leave the
    take half made); at any other time, KeyboardInterrupt."""
    if _Interrupt.module is None:
        raise KeyboardInterrupt
    _Interrupt.pressed = True
    job_modal = sys.modules.get(f"{_Interrupt.module}.operators.job_modal")
    if job_modal is not None:
        job_modal.cancel_running()


def generate_take(module: str, error: type[Exception]) -> Path:
    """Run the extension's Generate on the current scene (blocking); the new take's folder.

    Its failure is raised as ``error`` with the operator's one sentence. Ctrl-C meanwhile
    cancels it: the extension removes the unfinished take (this removes one finished just
    before), then KeyboardInterrupt.
    """
    state = bpy.context.scene.talking_head
    _Interrupt.module, _Interrupt.pressed = module, False
    try:
        try:
            result = bpy.ops.talking_head.generate()
        except RuntimeError as exc:  # the operator's one-sentence report
            raise error(one_line(exc) + ".") from exc
        folder: Path | None = None
        if "FINISHED" in result and len(state.takes):
            folder = Path(bpy.path.abspath(state.takes[state.active_take].folder))
    finally:
        _Interrupt.module = None
    if _Interrupt.pressed:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise KeyboardInterrupt
    if folder is None:
        raise error("Generate stopped without making a take; see Blender's console output.")
    return folder


def free_blend_path(folder: Path, stem: str) -> Path:
    """``folder/stem.blend``, or ``stem_2.blend``... when earlier runs left that one."""
    path, n = folder / f"{stem}.blend", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}_{n}.blend"
    return path


def image_plane(image: bpy.types.Image, compat) -> bpy.types.Object:
    """An upright plane (facing -Y, two units high) showing ``image`` through its material."""
    width, height = image.size
    aspect = width / height if height else 1.0
    mesh = bpy.data.meshes.new(f"{image.name} plane")
    x, z = aspect, 1.0
    mesh.from_pydata([(-x, 0, -z), (x, 0, -z), (x, 0, z), (-x, 0, z)], [], [(0, 1, 2, 3)])
    uv = mesh.uv_layers.new()
    for loop, co in zip(uv.data, [(0, 0), (1, 0), (1, 1), (0, 1)], strict=True):
        loop.uv = co
    obj = bpy.data.objects.new(Path(image.name).stem, mesh)
    bpy.context.scene.collection.objects.link(obj)
    mat = compat.node_material(f"{obj.name} portrait")  # version helper (5.0: always nodes)
    nodes, links = mat.node_tree.nodes, mat.node_tree.links
    tex = nodes.new("ShaderNodeTexImage")
    tex.image = image
    bsdf = nodes.get("Principled BSDF")
    links.new(tex.outputs["Color"], bsdf.inputs["Base Color"])
    mesh.materials.append(mat)
    return obj


def render_video(scene: bpy.types.Scene, size: tuple[int, int], target: Path) -> None:
    """Render the sequencer to ``target`` as H.264 + AAC in an MP4."""
    r = scene.render
    r.resolution_x, r.resolution_y = (max(2, size[0] // 2 * 2), max(2, size[1] // 2 * 2))
    r.resolution_percentage = 100
    r.use_sequencer = True
    # The frames as they are: Blender's default view transform (AgX, Filmic) tone-maps the
    # sequencer's output (measured: 11 grey levels darker, 23 dB PSNR against the take's
    # frames), which also erased the invisible watermark. Standard passes sRGB through.
    view = scene.view_settings
    view.view_transform, view.look, view.exposure, view.gamma = "Standard", "None", 0.0, 1.0
    if hasattr(r.image_settings, "media_type"):  # Blender 5.0: video before its format
        r.image_settings.media_type = "VIDEO"
    r.image_settings.file_format = "FFMPEG"
    r.ffmpeg.format = "MPEG4"
    r.ffmpeg.codec = "H264"
    r.ffmpeg.constant_rate_factor = "HIGH"
    r.ffmpeg.audio_codec = "AAC"
    r.ffmpeg.audio_bitrate = 160
    r.use_file_extension = False
    tmp = target.with_name(f".{target.stem}.tmp.mp4")
    r.filepath = str(tmp)
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            bpy.ops.render.render(animation=True)
        except (OSError, RuntimeError) as exc:
            raise BatchError(
                f"Blender could not render {target} ({one_line(exc)}); the .blend is saved."
            ) from exc
        if not tmp.is_file():
            raise BatchError(f"Blender did not write {target.name}; check its console output.")
        if target.exists():
            raise BatchError(f"{target} appeared while the video was rendered; it is kept.")
        try:
            tmp.replace(target)
        except OSError as exc:
            raise BatchError(
                f"The video could not be moved into place at {target} "
                f"({exc.strerror or exc}); the .blend is saved."
            ) from exc
    finally:  # a failure or Ctrl-C leaves no temporary video behind
        tmp.unlink(missing_ok=True)


def run(args: argparse.Namespace) -> Path:
    """Check everything that can be checked, then make the take, the .blend and the video;
    on a failure or Ctrl-C, what was made is removed again (except a saved .blend with its
    take, when only the video failed)."""
    for path, kind in ((args.image, "image"), (args.audio, "audio")):
        if not path.is_file():
            raise BatchError(f"The {kind} file {path} does not exist; check the path.")
    module = enable_extension(args.extension)
    max_fps = importlib.import_module(f"{module}.core.take.settings").MAX_FPS  # the engine's
    if not (math.isfinite(args.fps) and 0 < args.fps <= max_fps):
        raise BatchError(
            f"--fps {args.fps:g} is out of range; use a rate above 0 and at most "
            f"{max_fps:g} fps (fractional rates such as 23.976 are fine)."
        )
    out = args.out.resolve()
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {out} is a file; give a folder for the takes.")
    check_folder(module, out, f"--out {out}")
    blend = (args.blend or free_blend_path(out, args.image.stem)).resolve()
    video = args.video.resolve() if args.video else None
    check_new_file(module, blend, "--blend")
    if video is not None:
        check_new_file(module, video, "--video", ".mp4")
    made = {*missing_folders(out), *missing_folders(blend.parent)}
    if video is not None:
        made.update(missing_folders(video.parent))
    try:
        return make(args, module, out, blend, video)
    except BaseException:
        if not blend.exists() and hasattr(bpy.context.scene, "talking_head"):
            for take in bpy.context.scene.talking_head.takes:  # made, but saved nowhere
                shutil.rmtree(bpy.path.abspath(take.folder), ignore_errors=True)
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
            try:
                folder.rmdir()  # only when empty: nothing was made there
            except OSError:
                pass
        raise


def new_scene(module: str, image_path: Path, fps: float, error: type[Exception]) -> tuple:
    """An empty scene at ``fps`` with the portrait on an upright plane: (scene, plane)."""
    bpy.ops.wm.read_homefile(use_empty=True)
    scene = bpy.context.scene
    set_fps(scene, fps)
    try:
        image = bpy.data.images.load(str(image_path.resolve()))
    except RuntimeError as exc:
        raise error(f"Blender cannot read the image {image_path} ({exc}).") from exc
    compat = importlib.import_module(f"{module}.vasa_blender.compat")  # version helpers
    return scene, image_plane(image, compat)


def make(args: argparse.Namespace, module: str, out: Path, blend: Path, video: Path | None) -> Path:
    scene, plane = new_scene(module, args.image, args.fps, BatchError)
    compat = importlib.import_module(f"{module}.vasa_blender.compat")  # version helpers
    sound = compat.strips(scene).new_sound("voice", str(args.audio.resolve()), 1, 1)
    scene.frame_start, scene.frame_end = 1, sound.frame_final_end - 1
    state = scene.talking_head
    state.source_kind, state.source_object = "PLANE", plane
    state.sound_strip, state.seed, state.takes_folder = sound.name, args.seed, str(out)
    state.label, state.watermark = args.label, args.watermark
    state.credentials = args.credentials
    try:
        out.mkdir(parents=True, exist_ok=True)
        blend.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BatchError(f"--out {out} cannot be made ({exc.strerror or exc}).") from exc
    generate_take(module, BatchError)
    take = state.takes[state.active_take]
    try:
        bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    except RuntimeError as exc:
        raise BatchError(f"Blender could not save {blend} ({one_line(exc)}).") from exc
    print(f"{take.name}: {take.n_frames} frames in {take.folder}; saved {blend} ({module})")
    if video is not None:
        # The take's own size: the photo turned upright (EXIF), not as Blender stored it.
        record = importlib.import_module(f"{module}.core.take.record")
        width, height = (
            record.TakeFolder(bpy.path.abspath(take.folder)).read_record().inputs["image"]["size"]
        )
        render_video(scene, (width, height), video)
        if args.credentials:
            sign_video(module, video, Path(bpy.path.abspath(take.folder)))
        print(f"video: {args.video}")
    return blend


def sign_video(module: str, video: Path, take: Path) -> None:
    """Content Credentials on the MP4 Blender wrote, with the take's facts from its
    run.json (engine, pack, input hashes, watermark payload), signed offline with the
    configured certificate or the extension's own local key (in its user folder, as
    Generate's signed frames)."""
    import json

    credentials = importlib.import_module(f"{module}.core.marks.credentials")
    keys = importlib.import_module(f"{module}.core.marks.keys")
    errors = importlib.import_module(f"{module}.core.errors")
    generation = importlib.import_module(f"{module}.vasa_blender.generation")
    try:
        facts = credentials.take_facts(json.loads((take / "run.json").read_text()))
        key = keys.signing_key(generation.credentials_folder())
        credentials.Signer(key, facts).sign_file(video)
    except (OSError, ValueError, errors.VasaError) as exc:
        raise BatchError(
            f"{video} was rendered but could not be signed ({one_line(exc)}); the .blend is saved."
        ) from exc


def main(argv: list[str]) -> int:
    args = parse(argv)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_interrupt)
    try:
        if getattr(args, "manifest", None) is not None:
            return run_manifest(args)
        if getattr(args, "character_blend", None) is not None:
            return run_character(args)
        run(args)
    except BatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    return 0


# -------------------------------------------------------------------------- character mode
def parse_character_mode(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="batch.py --character-blend", allow_abbrev=False)
    p.add_argument("--character-blend", required=True, type=Path, help="the character's .blend")
    p.add_argument("--character", required=True, help="object name: a mesh or an armature")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--audio", type=Path, help="the voice")
    source.add_argument("--motion", type=Path, help="a take's motion.npz instead of a voice")
    p.add_argument("--out", required=True, type=Path, help="folder for the take's files")
    p.add_argument("--blend", required=True, type=Path, help="where to save the result")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--extension", type=Path)
    return p.parse_args(argv)


def run_character(args: argparse.Namespace) -> int:
    """Animate one character of a saved .blend and save the result as a new .blend."""
    for path, flag in (
        (args.character_blend, "--character-blend"),
        (args.audio, "--audio"),
        (args.motion, "--motion"),
    ):
        if path is not None and not path.is_file():
            raise BatchError(f"{flag} {path} is not a file; check the path.")
    module = enable_extension(args.extension)
    check_new_file(module, args.blend, "--blend", ".blend")
    out = args.out.resolve()
    check_folder(module, out, f"--out {args.out}")
    try:
        bpy.ops.wm.open_mainfile(filepath=str(args.character_blend.resolve()))
    except RuntimeError as exc:
        raise BatchError(f"{args.character_blend} cannot be opened ({one_line(exc)}).") from exc
    scene = bpy.context.scene
    obj = bpy.data.objects.get(args.character)
    if obj is None:
        names = ", ".join(o.name for o in bpy.data.objects if o.type in {"MESH", "ARMATURE"})
        raise BatchError(
            f"{args.character_blend} has no object '{args.character}'; choose one of: {names}."
        )
    state = scene.talking_head
    state.character.target = obj
    state.takes_folder = str(out) + "/"
    state.seed = args.seed
    compat = importlib.import_module(f"{module}.vasa_blender.compat")
    if args.audio is not None:
        channel = 1 + max((s.channel for s in compat.all_strips(scene)), default=0)
        strip = compat.strips(scene).new_sound(
            "voice", str(args.audio.resolve()), channel, scene.frame_start
        )
        state.sound_strip = strip.name
        state.character.motion_file = ""
    else:
        state.character.motion_file = str(args.motion.resolve())
    made = not out.exists()
    _Interrupt.module, _Interrupt.pressed = module, False
    try:
        bpy.ops.talking_head.animate_character()
    except RuntimeError as exc:  # the operator's one-sentence report
        if made:
            shutil.rmtree(out, ignore_errors=True)
        raise BatchError(one_line(exc) + ".") from exc
    finally:
        _Interrupt.module = None
    if _Interrupt.pressed:
        raise KeyboardInterrupt
    args.blend.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(args.blend.resolve()))
    print(state.status)
    print(f"saved: {args.blend}")
    return 0


# --------------------------------------------------------------------------- manifest mode
class BlenderMaker:
    """Makes a clip's take through the extension: a fresh scene, Generate, a saved .blend.
    The engine's batch runner (``core.batch.run``) decides which clips to make."""

    def __init__(self, module: str):
        self.module = module
        self.errors = importlib.import_module(f"{module}.core.errors")
        self.compat = importlib.import_module(f"{module}.vasa_blender.compat")
        self.controls = importlib.import_module(f"{module}.core.motion.settings").CONTROLS

    def take_folder(self, out: Path, clip) -> Path:
        return out / clip.name / "take_001"

    def claim_folder(self, out: Path, clip) -> Path:
        return out / clip.name

    def make(self, out: Path, clip, cancel, refresh) -> str:
        folder = out / clip.name
        s = clip.settings
        if s.output != "full" or s.png_compression != 1:
            raise self.errors.VasaError(
                f"{clip.name}: takes made through Blender have full frames at PNG level 1; "
                "drop the output and png-compression columns, or use python -m core batch."
            )
        # Made again from scratch: only what this script makes there, never other files.
        shutil.rmtree(self.take_folder(out, clip), ignore_errors=True)
        (folder / f"{clip.name}.blend").unlink(missing_ok=True)
        scene, plane = new_scene(self.module, clip.image, s.fps, self.errors.VasaError)
        sound = self.compat.strips(scene).new_sound("voice", str(clip.audio.resolve()), 1, 1)
        scene.frame_start, scene.frame_end = 1, sound.frame_final_end - 1
        state = scene.talking_head
        state.source_kind, state.source_object = "PLANE", plane
        state.sound_strip, state.takes_folder = sound.name, str(folder)
        for name in self.controls:
            setattr(state, name, getattr(s.motion, name))
        state.pack_path = s.pack or ""
        state.credentials = s.credentials
        state.watermark, state.label = s.watermark, s.label
        prefs = bpy.context.preferences.addons[self.module].preferences
        prefs.provider, prefs.threads, prefs.frame_format = s.provider, s.threads, s.frame_format
        generate_take(self.module, self.errors.VasaError)  # Ctrl-C: KeyboardInterrupt
        bpy.ops.wm.save_as_mainfile(filepath=str(folder / f"{clip.name}.blend"))
        return "complete"


def run_manifest(args: argparse.Namespace) -> int:
    module = enable_extension(args.extension)
    manifest = importlib.import_module(f"{module}.core.batch.manifest")
    runner = importlib.import_module(f"{module}.core.batch.run")
    errors = importlib.import_module(f"{module}.core.errors")
    try:
        shard = manifest.Shard.parse(args.shard)
        clips = manifest.read_manifest(args.manifest, args.settings)
    except manifest.ManifestError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    except errors.VasaError as exc:
        raise BatchError(str(exc)) from exc
    maker = BlenderMaker(module)
    out = args.out.resolve()
    try:
        if args.summary_only:
            summary = runner.write_summary(clips, out, str(args.manifest), maker)
            done = len(summary.names("done"))
            print(f"{done} of {len(clips)} clips done; written: {out / 'batch.json'}")
            return 0 if done == len(clips) else 1
        result = runner.run_batch(
            clips,
            out,
            shard,
            str(args.manifest),
            maker,
            report=lambda line: print(line, file=sys.stderr),
        )
    except errors.VasaError as exc:  # an --out that cannot be made, a summary not written
        raise BatchError(str(exc)) from exc
    print(
        f"shard {shard.label}: {len(result.names('done'))} done, "
        f"{len(result.names('skipped'))} skipped, {len(result.failed)} failed; written: "
        f"{runner.summary_path(out, shard)}"
    )
    if result.cancelled:
        return 130
    return 1 if result.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
