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


# Motion controls whose flag is shorter than their name (both spellings are accepted).
FLAG_ALIASES = {"motion_intensity": "--intensity", "blink_rate_per_min": "--blink-rate"}


def _add_motion_controls(p: argparse.ArgumentParser) -> None:
    """One flag per motion control, with type, choices and help from ``CONTROLS``."""
    from .motion.settings import CONTROLS

    group = p.add_argument_group("motion controls (units, ranges and defaults: docs/motion.md)")
    for name, control in CONTROLS.items():
        flags = [FLAG_ALIASES[name]] if name in FLAG_ALIASES else []
        flags.append("--" + name.replace("_", "-"))
        unit = f" {control.unit}" if control.unit and control.unit != "x" else ""
        extra: dict = (
            {"choices": control.choices}
            if control.choices
            else {"type": int if isinstance(control.default, int) else float}
        )
        group.add_argument(
            *flags,
            dest=name,
            default=control.default,
            help=f"{control.help} (default {control.default}{unit})",
            **extra,
        )


def _add_generate(sub) -> None:
    from .runtime.sessions import PROVIDERS
    from .take.frames import FRAME_FORMATS
    from .take.settings import OUTPUTS

    p = sub.add_parser("generate", help="make a talking-head take from a portrait and a voice")
    p.add_argument("--image", required=True, type=Path, help="portrait (PNG, JPEG, ...)")
    p.add_argument("--audio", required=True, type=Path, help="voice (WAV, FLAC, OGG, MP3)")
    p.add_argument("--out", required=True, type=Path, help="take folder to create")
    p.add_argument("--fps", type=float, default=25.0, help="video frame rate (default 25)")
    _add_motion_controls(p)
    p.add_argument("--pack", type=Path, default=None, help="model pack folder (default built-in)")
    p.add_argument(
        "--provider",
        default="auto",
        type=str.lower,
        choices=tuple(PROVIDERS),
        help="where models run: " + "; ".join(f"{k}: {v}" for k, v in PROVIDERS.items()),
    )
    p.add_argument("--threads", type=int, default=0, help="CPU threads for ONNX Runtime")
    p.add_argument("--png-compression", type=int, default=1, choices=range(10), metavar="0-9")
    p.add_argument(
        "--frame-format",
        default="png",
        choices=tuple(FRAME_FORMATS),
        help="frame files: " + "; ".join(f"{k}: {v.description}" for k, v in FRAME_FORMATS.items()),
    )
    p.add_argument("--overwrite", action="store_true", help="replace a take already in --out")
    p.add_argument(
        "--output",
        default="full",
        choices=OUTPUTS,
        help="full-resolution frames (default), VASA-1's 512x512 face crop, or "
        "both (crops in crop512/ beside frames/)",
    )
    p.add_argument(
        "--video", type=Path, default=None, help="also write an MP4 with the audio muxed in"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _generate(args) -> int:
    from .motion.settings import CONTROLS, MotionSettings
    from .take.frames import frame_pattern_printf
    from .take.generate import generate
    from .take.settings import Settings

    settings = Settings(
        fps=args.fps,
        motion=MotionSettings(**{name: getattr(args, name) for name in CONTROLS}),
        pack=str(args.pack) if args.pack else None,
        provider=args.provider,
        threads=args.threads,
        png_compression=args.png_compression,
        overwrite=args.overwrite,
        frame_format=args.frame_format,
        output=args.output,
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
