"""Model pack folders for the preferences: the same check as ``python -m core pack init`` and
opening a pack, and what the panel shows of a pack (profile, license).

Blender-free, so the operator stays thin: ``check_folder`` writes ``pack.toml`` into a folder
of downloaded ONNX files when every model is there and sound (as ``pack init`` does), opens
the pack on the CPU as a check, and otherwise returns one sentence per missing or wrong
file. Nothing is written into the extension's own folder.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ..core.errors import VasaError
from ..core.runtime.pack_init import detect, init_pack
from ..core.runtime.packs import BUILTIN_PACK_DIR, open_pack
from ..core.runtime.sessions import Runtime, RuntimeConfig


@dataclass
class FolderCheck:
    """What checking a folder found: ``errors`` (one sentence per bad file) stop it from
    being added; ``notes`` (files left out) do not."""

    folder: Path
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profile: str = ""
    license: str = ""
    wrote_toml: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _problems(folder: Path, first: str) -> list[str]:
    """One sentence per bad file where the folder's files say more than ``first``."""
    try:
        found = detect(folder)
    except VasaError:
        return [first]
    return found.errors or [first]


def check_folder(folder: str | Path) -> FolderCheck:
    """Check a pack folder (making its ``pack.toml`` first when it has none)."""
    folder = Path(folder)
    check = FolderCheck(folder)
    if not folder.is_dir():
        check.errors.append(f"Folder not found: {folder}; choose the folder that holds the pack.")
        return check
    if not (folder / "pack.toml").is_file():
        try:
            found = detect(folder)
        except VasaError as exc:
            check.errors.append(str(exc))
            return check
        check.notes = list(found.notes)
        if found.errors:
            check.errors = list(found.errors)
            return check
        try:
            init_pack(folder)
        except VasaError as exc:
            check.errors.append(str(exc))
            return check
        check.wrote_toml = True
    try:
        pack = open_pack(folder, runtime=Runtime(RuntimeConfig("cpu", 1)))
    except VasaError as exc:
        check.errors = _problems(folder, str(exc))
        return check
    check.profile, check.license = pack.profile, pack.license
    return check


@dataclass(frozen=True)
class PackInfo:
    """A pack as the panel shows it (read from its pack.toml, no model is opened)."""

    name: str
    profile: str
    license: str


def pack_info(folder: str | None) -> PackInfo | None:
    """The pack in ``folder`` (the built-in pack for None or ""), None when unreadable."""
    path = Path(folder) if folder else BUILTIN_PACK_DIR
    try:
        stamp = (path / "pack.toml").stat().st_mtime_ns
    except OSError:
        return None
    return _read_info(str(path), stamp)


@lru_cache(maxsize=32)
def _read_info(folder: str, stamp: int) -> PackInfo | None:
    try:
        meta = tomllib.loads(Path(folder, "pack.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    info = meta.get("pack", {})
    return PackInfo(
        str(info.get("name", Path(folder).name)),
        str(info.get("profile", "")),
        str(info.get("license", "")) or "not given in pack.toml",
    )
