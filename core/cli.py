"""Command line: ``python -m core generate --image IMG --audio AUD --out DIR``.

Bad input gives one line on stderr and exit status 2; Ctrl-C cancels cleanly (complete
frames stay, ``run.json`` says where it stopped) with exit status 130.
"""

from __future__ import annotations

import argparse
import sys
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
    p = sub.add_parser("generate", help="make a talking-head take from a portrait and a voice")
    p.add_argument("--image", required=True, type=Path, help="portrait (PNG, JPEG, ...)")
    p.add_argument("--audio", required=True, type=Path, help="voice (WAV, FLAC, OGG, MP3)")
    p.add_argument("--out", required=True, type=Path, help="take folder to create")
    p.add_argument("--fps", type=float, default=25.0, help="video frame rate (default 25)")
    p.add_argument("--seed", type=int, default=0, help="random seed for motion (default 0)")
    p.add_argument(
        "--intensity",
        type=float,
        default=1.0,
        help="head motion intensity, 0 = still head (default 1)",
    )
    p.add_argument(
        "--lipsync-strength", type=float, default=1.0, help="scale of mouth motion (default 1)"
    )
    p.add_argument(
        "--lipsync-mode",
        default="auto",
        choices=("auto", "phonetic", "acoustic"),
        help="phonetic (English phones), acoustic (any language, singing) or auto",
    )
    p.add_argument(
        "--gaze-yaw",
        type=float,
        default=0.0,
        help="main gaze direction in degrees, > 0 to the viewer's right (default 0)",
    )
    p.add_argument(
        "--gaze-pitch",
        type=float,
        default=0.0,
        help="main gaze direction in degrees, > 0 up (default 0)",
    )
    p.add_argument(
        "--head-scale",
        type=float,
        default=1.0,
        help="head distance: 1 = as in the photo, > 1 closer (default 1)",
    )
    p.add_argument(
        "--emotion", default="neutral", choices=("neutral", "happy", "sad", "angry", "surprised")
    )
    p.add_argument(
        "--emotion-intensity",
        type=float,
        default=1.0,
        help="0 = neutral face .. 1 = full emotion (default 1)",
    )
    p.add_argument(
        "--blink-rate", type=float, default=17.0, help="average blinks per minute (default 17)"
    )
    p.add_argument("--pack", type=Path, default=None, help="model pack folder (default built-in)")
    p.add_argument("--provider", default="auto", help="auto, cuda, directml, coreml or cpu")
    p.add_argument("--threads", type=int, default=0, help="CPU threads for ONNX Runtime")
    p.add_argument("--png-compression", type=int, default=1, choices=range(10), metavar="0-9")
    p.add_argument(
        "--frame-format",
        default="png",
        choices=("png", "jpeg", "exr"),
        help="frame files: png (default), jpeg or exr (half float, linear)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace a take already in --out")
    p.add_argument(
        "--output",
        default="full",
        choices=("full", "crop512", "both"),
        help="full-resolution frames (default), VASA-1's 512x512 face crop, or "
        "both (crops in crop512/ beside frames/)",
    )
    p.add_argument(
        "--video", type=Path, default=None, help="also write an MP4 with the audio muxed in"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _generate(args) -> int:
    from .take.frames import frame_pattern_printf
    from .take.generate import Settings, generate

    settings = Settings(
        fps=args.fps,
        seed=args.seed,
        motion_intensity=args.intensity,
        lipsync_strength=args.lipsync_strength,
        pack=str(args.pack) if args.pack else None,
        provider=args.provider,
        threads=args.threads,
        png_compression=args.png_compression,
        overwrite=args.overwrite,
        frame_format=args.frame_format,
        output=args.output,
        lipsync_mode=args.lipsync_mode,
        gaze_yaw=args.gaze_yaw,
        gaze_pitch=args.gaze_pitch,
        head_scale=args.head_scale,
        emotion=args.emotion,
        emotion_intensity=args.emotion_intensity,
        blink_rate_per_min=args.blink_rate,
    )
    if args.video and args.frame_format == "exr":
        raise VasaError(
            "--video needs PNG or JPEG frames; drop --video or choose --frame-format png."
        )
    progress = None if args.quiet else ProgressBar()
    result = generate(args.image, args.audio, args.out, settings, progress)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    fps = result.frames_written / max(result.timings.get("render", 0.0), 1e-9)
    print(
        f"{result.status}: {result.frames_written}/{result.n_frames} frames in "
        f"{result.frames_dir} ({fps:.1f} frames/s rendering, {result.provider})"
    )
    if result.status == "cancelled":
        return 130
    if args.video:
        from .take.video import mux_video

        mux_video(
            result.frames_dir,
            args.fps,
            args.audio,
            args.video,
            pattern=frame_pattern_printf(args.frame_format),
        )
        print(f"video: {args.video}")
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


def _evaluate(args) -> int:
    import json

    from .quality.evaluate import evaluate_take, render_sweep

    if args.sweep is not None:
        render_sweep(args.sweep, args.take)
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


def _contact_sheet(args) -> int:
    from .quality.contact_sheet import write_contact_sheet

    print(f"written: {write_contact_sheet(args.image, args.out, args.tile)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m core", description="Talking-head engine (Blender-free)."
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    _add_generate(sub)
    _add_bench(sub)
    _add_evaluate(sub)
    _add_contact_sheet(sub)
    args = parser.parse_args(argv)
    try:
        if args.command == "generate":
            return _generate(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "contact-sheet":
            return _contact_sheet(args)
        from .quality.bench import run_bench

        return run_bench(args.seconds, args.keep, args.runs, args.hd)
    except VasaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
