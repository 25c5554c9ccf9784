"""The batch manifest: a CSV with a header row, one clip per row, checked up front.

Columns: ``image`` and ``audio`` (paths, relative to the manifest's folder), optional
``name`` (the take's folder under the output folder; by default the audio file's stem),
and any take setting under its command-line name (``seed``, ``emotion``, ``gaze-yaw`` or
``gaze_yaw``, ``fps``...). An empty cell keeps the batch's default. Every problem of every
row is reported, one sentence each, before anything is rendered.
"""

from __future__ import annotations

import argparse
import csv
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import VasaError
from ..take.flags import FlagError, column_flag, settings_from_flags, settings_parser
from ..take.settings import Settings

REQUIRED = ("image", "audio")
NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")


class ManifestError(VasaError):
    """The manifest cannot be run; ``problems`` holds one sentence per problem."""

    def __init__(self, problems: list[str]):
        super().__init__(problems[0] if len(problems) == 1 else f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True)
class Clip:
    index: int  # 0-based data row
    line: int  # line in the CSV file, for messages
    name: str
    image: Path
    audio: Path
    settings: Settings


@dataclass(frozen=True)
class Shard:
    """Shard ``number`` of ``count`` (1-based): the clips whose index % count == number - 1."""

    number: int = 1
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
        if not match:
            raise VasaError(f"Shard {text!r} is not of the form I/N (for example 2/8).")
        number, count = int(match[1]), int(match[2])
        if count < 1 or not 1 <= number <= count:
            raise VasaError(
                f"Shard {text} is out of range; use 1/{max(count, 1)} to {count}/{count}."
            )
        return cls(number, count)

    def holds(self, clip: Clip) -> bool:
        return clip.index % self.count == self.number - 1

    @property
    def label(self) -> str:
        return f"{self.number}/{self.count}"


def read_manifest(
    path: str | Path, defaults: list[str] | argparse.Namespace | None = None
) -> list[Clip]:
    """The clips of the manifest at ``path``; ``defaults`` are the settings that apply to
    every clip unless its row says otherwise: flags still to parse, or a namespace a
    command line parsed with ``take.flags.add_settings_flags``. ManifestError lists every
    problem found."""
    path = Path(path)
    base = path.resolve().parent
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise VasaError(f"Manifest {path} not found; check the path.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise VasaError(f"Manifest {path} cannot be read as UTF-8 text ({exc}).") from exc
    rows = list(csv.reader(text.splitlines()))
    label = path.name
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise ManifestError(
            [
                f"{label} is empty; its first row must name the columns "
                "(image, audio, and optionally name and settings)."
            ]
        )
    header = [cell.strip().lower() for cell in rows[0]]
    problems = _check_header(label, header)
    if problems:
        raise ManifestError(problems)
    parser = settings_parser()
    try:
        base_args = (
            defaults
            if isinstance(defaults, argparse.Namespace)
            else parser.parse_args(defaults or [])
        )
    except FlagError as exc:
        raise ManifestError([f"The batch's settings are not accepted: {exc}."]) from exc
    clips: list[Clip] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are allowed
        where = f"{label} line {line}"
        if len(row) != len(header):
            problems.append(
                f"{where} has {len(row)} cells but the header has {len(header)}; "
                "quote cells that contain commas."
            )
            continue
        cells = {h: c.strip() for h, c in zip(header, row, strict=True)}
        clip, name, row_problems = _clip(where, len(clips), line, cells, base, parser, base_args)
        problems += row_problems
        key = name.casefold()
        if key and key in seen:
            problems.append(
                f"{where} names the take {name!r} like line {seen[key]}; "
                "give each row its own name."
            )
            continue
        seen.setdefault(key, line)
        if clip is not None:
            clips.append(clip)
    if problems:
        raise ManifestError(problems)
    if not clips:
        raise ManifestError([f"{label} lists no clips; add one row per clip under the header."])
    return clips


def _check_header(label: str, header: list[str]) -> list[str]:
    problems = [
        f"{label} has no {col!r} column; the header must name image and audio."
        for col in REQUIRED
        if col not in header
    ]
    for col in header:
        if col in (*REQUIRED, "name") or not col:
            continue
        if column_flag(col) is None:
            problems.append(
                f"{label}: column {col!r} is not a setting; use a generate flag's "
                "name (seed, emotion, fps, ...), see `python -m core generate -h`."
            )
    dupes = sorted({c for c in header if c and header.count(c) > 1})
    problems += [f"{label}: column {c!r} appears twice." for c in dupes]
    return problems


def _clip(
    where: str, index: int, line: int, cells: dict[str, str], base: Path, parser, base_args
) -> tuple[Clip | None, str, list[str]]:
    problems: list[str] = []
    paths: dict[str, Path] = {}
    for col in REQUIRED:
        value = cells.get(col, "")
        if not value:
            problems.append(f"{where} has no {col}.")
            continue
        p = Path(value).expanduser()
        p = p if p.is_absolute() else base / p
        if not p.is_file():
            problems.append(f"{where}: the {col} file {value} does not exist.")
        paths[col] = p
    name = cells.get("name") or (paths["audio"].stem if "audio" in paths else "")
    if name and not NAME_OK.match(name) or name in (".", ".."):
        problems.append(
            f"{where}: take name {name!r} must be a plain folder name (letters, "
            "digits, '.', '_', '-', spaces; no slashes)."
        )
    argv: list[str] = []
    for col, value in cells.items():
        if col in (*REQUIRED, "name") or value == "":
            continue
        argv.append(f"{column_flag(col) or col}={value}")  # '-1e-3' is a value too
    try:
        args = parser.parse_args(argv, namespace=_copy(base_args))
        settings = settings_from_flags(args, overwrite=True)
        settings.validate()
    except (FlagError, VasaError) as exc:
        problems.append(f"{where}: {str(exc).rstrip('.')}.")
        settings = None
    if problems or settings is None:
        return None, name, problems
    return Clip(index, line, name, paths["image"], paths["audio"], settings), name, []


def _copy(namespace: argparse.Namespace) -> argparse.Namespace:
    return argparse.Namespace(**vars(namespace))
