"""Command line: ``python -m core generate --image IMG --audio AUD --out DIR``.

Bad input gives one line on stderr and exit status 2; Ctrl-C cancels cleanly (complete
frames stay, ``run.json`` says where it stopped) with exit status 130.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from . import __version__
from .errors import VasaError


class ProgressBar:
    """A one-line text progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream=sys.stderr, width: int = 30):
        self.stream, self.width = stream, width
        self.tty = stream.isatty()
        self.start = time.perf_counter()
        self._last_line = -1.0

    def __call__(self, fraction: float, message: str) -> None:
        elapsed = time.perf_counter() - self.start
        filled = int(round(self.width * fraction))
        line = (
            f"[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%} {message} "
            f"({elapsed:.1f} s)"
        )
        if self.tty:
            self.stream.write("\r" + line.ljust(79))
            if fraction >= 1.0:
                self.stream.write("\n")
        elif fraction >= 1.0 or fraction - self._last_line >= 0.1:
            self.stream.write(line + "\n")
            self._last_line = fraction
        self.stream.flush()


def _add_generate(sub) -> None:
    from .take.flags import add_settings_flags

    p = sub.add_parser("generate", help="make a talking-head take from a portrait and a voice")
    p.add_argument("--image", required=True, type=Path, help="portrait (PNG, JPEG, ...)")
    p.add_argument("--audio", type=Path, help="voice (WAV, FLAC, OGG, MP3)")
    p.add_argument(
        "--motion",
        type=Path,
        default=None,
        help="render this motion.npz (e.g. from capture) instead of motion from the voice; "
        "its frame rate is the take's; --audio is then optional (muxed into --video)",
    )
    p.add_argument("--out", required=True, type=Path, help="take folder to create")
    add_settings_flags(p)
    p.add_argument("--overwrite", action="store_true", help="replace a take already in --out")
    p.add_argument(
        "--video", type=Path, default=None, help="also write an MP4 with the audio muxed in"
    )
    p.add_argument(
        "--stream",
        default=None,
        metavar="PATH",
        help="also send each frame, as it is rendered, as raw RGB24 to PATH (- = standard "
        "output, e.g. piped into ffplay or ffmpeg; the command to read it is printed)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


@contextlib.contextmanager
def _stream_target(path: str | None, image: Path, settings):
    """The binary file frames are streamed to (None without --stream), and a line on
    stderr saying how to watch it."""
    if path is None:
        yield None
        return
    from .face.portrait import read_portrait
    from .take.stream import player_command

    if settings.output == "full":
        height, width = read_portrait(image).pixels.shape[:2]
    else:
        width = height = 512
    print(f"streaming: {player_command(width, height, settings.fps)}", file=sys.stderr)
    if path == "-":
        yield sys.stdout.buffer
        return
    try:
        out = open(path, "wb")  # noqa: SIM115 - closed below; a FIFO blocks here for its reader
    except OSError as exc:
        raise VasaError(f"--stream {path} cannot be written ({exc.strerror or exc}).") from exc
    with out:
        yield out


def _generate(args) -> int:
    from .take.flags import settings_from_flags
    from .take.frames import frame_pattern_printf
    from .take.generate import generate

    settings = settings_from_flags(args, overwrite=args.overwrite)
    if args.audio is None and args.motion is None:
        raise VasaError("generate needs --audio (a voice), or --motion (a motion.npz).")
    if args.video and args.frame_format == "exr":
        raise VasaError(
            "--video needs PNG or JPEG frames; drop --video or choose --frame-format png."
        )
    if args.video:  # before rendering: a take is not made for a video that cannot be written
        from .take.video import check_video_target

        check_video_target(args.video, overwrite=args.overwrite)
    progress = None if args.quiet else ProgressBar()
    with _stream_target(args.stream, args.image, settings) as stream:
        result = generate(
            args.image, args.audio, args.out, settings, progress, motion=args.motion, stream=stream
        )
    report = sys.stderr if args.stream == "-" else sys.stdout  # stdout carries the frames
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    fps = result.frames_written / max(result.timings.get("render", 0.0), 1e-9)
    print(
        f"{result.status}: {result.frames_written}/{result.n_frames} frames in "
        f"{result.frames_dir} ({fps:.1f} frames/s rendering, {result.provider})",
        file=report,
    )
    if not args.quiet:
        _print_providers(result.out_dir, report)
    if result.status == "cancelled":
        return 130
    if args.video:
        from .take.video import mux_video

        with _voice_or_silence(args.audio, result.n_frames / settings.fps) as audio:
            mux_video(
                result.frames_dir,
                settings.fps,  # the motion file's rate with --motion
                audio,
                args.video,
                pattern=frame_pattern_printf(args.frame_format),
                overwrite=args.overwrite,
            )
        if settings.credentials:
            _sign_video(args.video, args.out)
        print(f"video: {args.video}", file=report)
    return 0


def _print_providers(take: Path, stream) -> None:
    """Which provider ran each model and why no faster one (run.json's ``providers``)."""
    from .runtime.providers import report_lines

    try:
        models = json.loads((take / "run.json").read_text(encoding="utf-8")).get("providers")
    except (OSError, ValueError):
        return
    for line in report_lines(models or {}):
        print(f"providers: {line}", file=stream)


def _sign_video(video: Path, take: Path) -> None:
    """Content Credentials on the take's MP4 (facts from its run.json, signed offline)."""
    import json

    from .marks.credentials import Signer, take_facts
    from .marks.keys import signing_key
    from .take.record import RUN_JSON

    facts = take_facts(json.loads((take / RUN_JSON).read_text()))
    Signer(signing_key(), facts).sign_file(video)


def _add_verify(sub) -> None:
    sub.add_parser(
        "verify",
        help="read a frame's or video's Content Credentials: who made it, when, with what",
        description="Also reads the invisible watermark (the take's identity) from the "
        "picture itself, which survives re-encoding, resizing and cropping, and says whether "
        "it is the one the credentials name. Exit status: 0 credentials intact (or none, but "
        "the watermark read), 1 the file was changed after signing (or its signature is "
        "broken, or the credentials name another watermark than the picture carries), 3 "
        "neither credentials nor a watermark, 2 not a readable PNG, JPEG or MP4.",
    ).add_argument("file", type=Path, help="a PNG or JPEG frame, or an MP4 video")


def _verify(args) -> int:
    from .marks.verify import verify_file

    result = verify_file(args.file)
    print("\n".join(line for line in result.lines() if line))
    return result.code


@contextlib.contextmanager
def _voice_or_silence(audio: Path | None, seconds: float):
    """``audio``, or a silent WAV of ``seconds`` for a take made from motion alone."""
    if audio is not None:
        yield audio
        return
    import numpy as np
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "silence.wav"
        soundfile.write(path, np.zeros(max(1, round(seconds * 16000)), np.int16), 16000)
        yield path


def _add_batch(sub) -> None:
    from .take.flags import add_settings_flags

    p = sub.add_parser(
        "batch",
        allow_abbrev=False,  # its setting flags pass through by their full names
        help="make the takes of a CSV manifest (resumable; one shard of it with --shard)",
        description="Columns: image, audio, optional name (the take's folder), and any "
        "setting flag below by name (seed, emotion, gaze-yaw...); the flags given here are "
        "the defaults for every row. Exit status: 0 every clip of the shard done or "
        "skipped, 1 some failed, 2 the manifest or a flag is wrong (nothing is rendered), "
        "130 interrupted.",
    )
    p.add_argument("--manifest", required=True, type=Path, help="CSV file, one clip per row")
    p.add_argument("--out", required=True, type=Path, help="folder for the takes")
    p.add_argument("--shard", default="1/1", help="I/N: make only the I-th of N shares (1-based)")
    p.add_argument(
        "--summary-only",
        action="store_true",
        help="render nothing; write OUT/batch.json from the takes on disk (exit 1 unless all "
        "are done)",
    )
    add_settings_flags(p)


def _batch(args) -> int:
    from .batch.manifest import ManifestError, Shard, read_manifest
    from .batch.run import run_batch, summary_path, write_summary

    shard = Shard.parse(args.shard)
    try:
        clips = read_manifest(args.manifest, args)  # its settings flags: every row's defaults
    except ManifestError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    if args.summary_only:
        summary = write_summary(clips, args.out, str(args.manifest))
        pending = len(clips) - len(summary.names("done"))
        print(
            f"{len(clips) - pending} of {len(clips)} takes done; written: {args.out / 'batch.json'}"
        )
        return 0 if pending == 0 else 1
    result = run_batch(
        clips, args.out, shard, str(args.manifest), report=lambda line: print(line, file=sys.stderr)
    )
    print(
        f"shard {shard.label}: {len(result.names('done'))} done, "
        f"{len(result.names('skipped'))} skipped, {len(result.failed)} failed, "
        f"{len(result.names('elsewhere'))} left to other workers; written: "
        f"{summary_path(args.out, shard)}"
    )
    if result.cancelled:
        return 130
    return 1 if result.failed else 0


def _add_livelink(sub) -> None:
    p = sub.add_parser("livelink", help="Live Link Face CSV: import to a take, export a take")
    verbs = p.add_subparsers(dest="verb", required=True)
    imp = verbs.add_parser("import", help="a Live Link Face CSV to a take's motion.npz")
    imp.add_argument("--csv", required=True, type=Path, help="CSV from the Live Link Face app")
    imp.add_argument("--out", required=True, type=Path, help="take folder to create")
    imp.add_argument("--fps", type=float, default=None, help="frame rate (default: the CSV's)")
    imp.add_argument("--overwrite", action="store_true", help="replace a take already in --out")
    exp = verbs.add_parser("export", help="a take's motion to a Live Link Face CSV")
    exp.add_argument("--take", required=True, type=Path, help="take folder (or its motion.npz)")
    exp.add_argument("--out", required=True, type=Path, help="CSV file to write")


def _livelink(args) -> int:
    from .character.livelink import import_take, write_csv
    from .character.take import read_motion_file

    if args.verb == "import":
        track = import_take(args.csv, args.out, args.fps, args.overwrite)
        for note in track.meta.get("notes", []):
            print(f"note: {note}", file=sys.stderr)
        print(f"{track.n_frames} frames at {track.fps:g} fps written: {args.out / 'motion.npz'}")
        return 0
    track = read_motion_file(args.take)
    dropped = write_csv(track, args.out)
    if dropped:
        print(f"note: the CSV has no column for {', '.join(dropped)}", file=sys.stderr)
    print(f"{track.n_frames} frames at {track.fps:g} fps written: {args.out}")
    return 0


def _add_pack(sub) -> None:
    p = sub.add_parser("pack", help="model packs: make one from a folder of downloaded files")
    verbs = p.add_subparsers(dest="verb", required=True)
    init = verbs.add_parser(
        "init", help="detect the profile of a folder's ONNX files and write its pack.toml"
    )
    init.add_argument("folder", type=Path, help="folder with the downloaded .onnx files")
    init.add_argument("--overwrite", action="store_true", help="replace an existing pack.toml")
    check = verbs.add_parser(
        "check", help="open a pack as a take would and say which provider runs each model"
    )
    check.add_argument("folder", type=Path, nargs="?", help="the pack (default: built-in)")
    check.add_argument("--provider", default="auto", help="auto, cuda, directml, coreml or cpu")


def _pack(args) -> int:
    from .runtime.pack_init import detect, init_pack

    if args.verb == "check":
        from .runtime.packs import open_pack
        from .runtime.sessions import Runtime, RuntimeConfig

        runtime = Runtime(RuntimeConfig(args.provider))
        pack = open_pack(args.folder, runtime=runtime)
        print(f"'{pack.profile}' pack {pack.name}: sound ({pack.license or 'no license given'})")
        for line in runtime.provider_report().lines():
            print(f"providers: {line}")
        return 0
    found = detect(args.folder)
    for note in found.notes:
        print(f"note: {note}", file=sys.stderr)
    if found.errors:
        for error in found.errors:
            print(f"error: {error}", file=sys.stderr)
        return 2
    found = init_pack(args.folder, overwrite=args.overwrite)
    models = ", ".join(f"{k}={p.name}" for k, p in found.files.items())
    print(f"'{found.profile}' pack written: {args.folder / 'pack.toml'} ({models})")
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="time each stage on a 512x512 portrait and 20 s of audio")
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--keep", type=Path, default=None, help="keep the last take in this folder")
    p.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    p.add_argument(
        "--hd",
        action="store_true",
        help="a 1920x1080 portrait (the sample scaled 2x, surroundings mirrored)",
    )
    p.add_argument(
        "--uhd",
        action="store_true",
        help="a 3840x2160 portrait (the sample scaled 4x, surroundings mirrored)",
    )
    p.add_argument(
        "--pack",
        type=Path,
        default=None,
        help="render with this model pack (make bench: a LivePortrait stand-in pack)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=0,
        metavar="CLIPS",
        help="instead: a manifest of CLIPS short clips through one batch worker (clips/hour)",
    )


def _add_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="measure a take's frames with the landmark model")
    p.add_argument("--take", required=True, type=Path, help="take folder (from generate)")
    p.add_argument(
        "--sweep",
        type=Path,
        default=None,
        metavar="IMAGE",
        help="first render a test sweep of IMAGE into --take (a new folder)",
    )
    p.add_argument("--stride", type=int, default=1, help="measure every Nth frame")
    p.add_argument(
        "--pack", type=Path, default=None, help="model pack for --sweep (default built-in)"
    )


def _evaluate(args) -> int:
    import json

    from .quality.evaluate import evaluate_take, render_sweep

    if args.sweep is not None:
        render_sweep(args.sweep, args.take, pack=args.pack)
    report = evaluate_take(args.take, args.stride)
    summary = {
        k: report[k]
        for k in (
            "frames",
            "detected",
            "follows",
            "background_change_grey_levels",
            "jitter_face_widths",
        )
    }
    print(json.dumps(summary, indent=1))
    print(f"written: {args.take / 'evaluate.json'}, {args.take / 'evaluate.png'}")
    return 0


def _add_contact_sheet(sub) -> None:
    p = sub.add_parser("contact-sheet", help="PNG grid of frames at each channel's extremes")
    p.add_argument("--image", required=True, type=Path, help="portrait (PNG, JPEG, ...)")
    p.add_argument("--out", required=True, type=Path, help="PNG file to write")
    p.add_argument("--tile", type=int, default=192, help="tile size in pixels (default 192)")
    p.add_argument("--pack", type=Path, default=None, help="model pack folder (default built-in)")


def _contact_sheet(args) -> int:
    from .quality.contact_sheet import write_contact_sheet

    print(f"written: {write_contact_sheet(args.image, args.out, args.tile, args.pack)}")
    return 0


def _add_capture(sub) -> None:
    p = sub.add_parser("capture", help="read a talking-face video into a take's motion.npz")
    p.add_argument("--video", required=True, type=Path, help="video of one face (MP4, MOV...)")
    p.add_argument("--out", required=True, type=Path, help="take folder to create")
    p.add_argument("--overwrite", action="store_true", help="replace a take already in --out")
    p.add_argument("--no-smooth", action="store_true", help="keep the raw measurements")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _capture(args) -> int:
    from .capture.capture import CaptureOptions, capture_video, write_capture
    from .take.record import TakeFolder

    if TakeFolder(args.out).holds_take() and not args.overwrite:  # before reading the video
        TakeFolder(args.out).prepare(False)
    options = CaptureOptions(smooth=not args.no_smooth)
    result = capture_video(args.video, options, None if args.quiet else ProgressBar())
    folder = write_capture(result, args.out, args.overwrite)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"captured {result.track.n_frames} frames at {result.video.fps:g} fps "
        f"({int((~result.found).sum())} without a face); written: {folder / 'motion.npz'}"
    )
    return 0


def _add_reenact(sub) -> None:
    p = sub.add_parser(
        "reenact", help="capture a video, render its first frame with that motion, compare"
    )
    p.add_argument("--video", required=True, type=Path, help="talking-face video")
    p.add_argument("--out", required=True, type=Path, help="new folder for the comparison")


def _reenact(args) -> int:
    from .quality.reenact import reenact_video

    reenact_video(args.video, args.out, report=print)
    print(f"written: {args.out / 'reenact.json'}")
    return 0


def _add_calibrate(sub) -> None:
    p = sub.add_parser(
        "calibrate",
        help="a real talking video against a take made from its first frame and its sound",
    )
    p.add_argument("--video", required=True, type=Path, help="talking-face video with sound")
    p.add_argument("--out", required=True, type=Path, help="new folder for the comparison")


def _calibrate(args) -> int:
    from .quality.calibrate import calibrate_video

    calibrate_video(args.video, args.out, report=print)
    print(f"written: {args.out / 'calibration.json'}, {args.out / 'calibration.png'}")
    return 0


class OneLineParser(argparse.ArgumentParser):
    """Usage mistakes are one ``error:`` line, like every other error (not argparse's usage
    block), exit status 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"error: {message}; see `{self.prog} --help`.\n")


def _stop_on_sigterm() -> None:
    """SIGTERM (what ``timeout``, ``docker stop``, Kubernetes and farm managers send) stops a
    run as Ctrl-C does: the current frame finishes and ``run.json`` says ``cancelled``."""

    def interrupt(signum, frame):
        # ``timeout`` and process groups may send it twice: the clean-up must not be cut.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    """``python -m core``; SIGTERM is a cancel while it runs (the handler is put back
    after, for callers that run it in-process)."""
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if in_main else None
    _stop_on_sigterm()
    try:
        return _main(argv)
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    parser = OneLineParser(prog="python -m core", description="Talking-head engine (Blender-free).")
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    _add_bench(sub)
    _add_evaluate(sub)
    _add_contact_sheet(sub)
    _add_batch(sub)
    _add_livelink(sub)
    _add_calibrate(sub)
    _add_capture(sub)
    _add_reenact(sub)
    _add_pack(sub)
    _add_verify(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "contact-sheet":
            return _contact_sheet(args)
        if args.command == "batch":
            return _batch(args)
        if args.command == "calibrate":
            return _calibrate(args)
        if args.command == "capture":
            return _capture(args)
        if args.command == "reenact":
            return _reenact(args)
        if args.command == "livelink":
            return _livelink(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "pack":
            return _pack(args)
        from .quality.bench import bench_batch, run_bench

        if args.batch:
            bench_batch(args.batch)
            return 0
        return run_bench(
            args.seconds,
            args.keep,
            args.runs,
            "uhd" if args.uhd else "hd" if args.hd else "512",
            args.pack,
        )
    except VasaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
