"""The take settings as command-line flags, shared by ``generate``, ``batch`` and the
batch manifest's columns (a column is a flag's name: ``seed``, ``emotion``, ``gaze-yaw``).

Types, choices and help come from the engine's tables (``CONTROLS``, ``FRAME_FORMATS``,
``OUTPUTS``, ``PROVIDERS``), so a new control is a new flag and a new manifest column at once.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..motion.settings import CONTROLS, MotionSettings
from ..runtime.sessions import PROVIDERS
from .frames import FRAME_FORMATS
from .settings import OUTPUTS, Settings

# Motion controls whose flag is shorter than their name (both spellings are accepted).
FLAG_ALIASES = {"motion_intensity": "--intensity", "blink_rate_per_min": "--blink-rate"}


def add_settings_flags(p: argparse.ArgumentParser) -> None:
    """Every flag that sets a ``Settings`` field (the motion controls included)."""
    p.add_argument("--fps", type=float, default=25.0, help="video frame rate (default 25)")
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
    p.add_argument(
        "--output",
        default="full",
        choices=OUTPUTS,
        help="full-resolution frames (default), VASA-1's 512x512 face crop, or "
        "both (crops in crop512/ beside frames/)",
    )
    p.add_argument(
        "--no-credentials",
        dest="credentials",
        action="store_false",
        help="do not sign the PNG/JPEG frames and the --video MP4 with Content Credentials (C2PA: "
        "made by AI, by this engine, from inputs with these hashes)",
    )
    p.add_argument(
        "--no-watermark",
        dest="watermark",
        action="store_false",
        help="do not hide the take's identity in the face of every frame (an invisible "
        "watermark that `verify` reads back after re-encoding, halving or cropping)",
    )
    p.add_argument(
        "--label",
        action="store_true",
        help='draw a small "AI-generated" label in a corner of every frame, away from the face',
    )


def settings_from_flags(args: argparse.Namespace, overwrite: bool = False) -> Settings:
    return Settings(
        fps=args.fps,
        motion=MotionSettings(**{name: getattr(args, name) for name in CONTROLS}),
        pack=str(args.pack) if args.pack else None,
        provider=args.provider,
        threads=args.threads,
        png_compression=args.png_compression,
        overwrite=overwrite,
        frame_format=args.frame_format,
        output=args.output,
        credentials=args.credentials,
        label=args.label,
        watermark=args.watermark,
    )


class FlagError(ValueError):
    """A flag or its value is not accepted (the message is argparse's, one line)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]  # raise instead of exiting
        raise FlagError(message)


def settings_parser() -> argparse.ArgumentParser:
    """A parser of the settings flags alone that raises ``FlagError`` instead of exiting."""
    p = _Parser(add_help=False)
    add_settings_flags(p)
    return p


def column_flag(column: str) -> str | None:
    """The flag a manifest column names (``seed``, ``gaze_yaw``, ``--gaze-yaw``), or None."""
    flag = "--" + column.strip().lstrip("-").replace("_", "-").lower()
    known = {opt for action in settings_parser()._actions for opt in action.option_strings}
    return flag if flag in known else None
