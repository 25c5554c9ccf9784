"""``pack init``: make a model pack of a folder of downloaded ONNX files.

The profile is found from the files' names (each ``ModelSpec.files`` pattern) and confirmed
by their tensors (a file named like a model but holding another is reported, and a file
under another name that fits a model's tensors exactly is taken). ``pack.toml`` is written
in the built-in pack's format, with a sha256 per file, only when every model the profile
needs is there and sound; otherwise nothing is written and each missing or wrong file is one
sentence. Files that could run code (pickles, libraries) are never opened.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelPackError
from .model_files import UNSAFE_SUFFIXES, ModelIO, inspect, matching_variant, model_problem
from .packs import open_pack, sha256_file
from .profiles import ModelSpec, Profile, get_profile, profile_names
from .sessions import Runtime, RuntimeConfig

# Shown in pack.toml; the files' own licenses apply (see where they were downloaded).
LICENSES = {
    "liveportrait": "MIT (KwaiVGI/LivePortrait weights; InsightFace detectors: non-commercial)",
    "ditto": "Apache-2.0 (antgroup/ditto-talkinghead)",
}


@dataclass
class Detection:
    """What ``detect`` found: the profile, a file per model key, and one sentence per
    problem (``errors`` stop a pack from being written, ``notes`` do not)."""

    profile: str
    files: dict[str, Path] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _named_like(name: str, spec: ModelSpec) -> bool:
    return any(
        fnmatch.fnmatch(name.lower(), pattern.lower())
        for variant in spec.variants()
        for pattern in variant.files
    )


def _published_names(spec: ModelSpec) -> str:
    names = [f"{v.label + ' ' if v.label else ''}{v.files[0]}" for v in spec.variants() if v.files]
    return " or ".join(names) or "a matching .onnx file"


def _has_tensors(spec: ModelSpec) -> bool:
    return any(v.inputs or v.outputs for v in spec.variants())


def _assign(profile: Profile, onnx: dict[Path, ModelIO | str]) -> Detection:
    found = Detection(profile.name)
    wrong: dict[Path, str] = {}
    for key, spec in profile.models.items():
        # By name first (in the order the names are listed), then by tensors alone.
        named = sorted(
            (p for p in onnx if _named_like(p.name, spec)),
            key=lambda p: min(
                (
                    i
                    for v in spec.variants()
                    for i, pat in enumerate(v.files)
                    if fnmatch.fnmatch(p.name.lower(), pat.lower())
                ),
                default=99,
            ),
        )
        candidates = named + [p for p in onnx if p not in named and _has_tensors(spec)]
        for path in candidates:
            if path in found.files.values():
                continue
            io = onnx[path]
            if isinstance(io, str):
                if path in named:
                    wrong[path] = io
                continue
            problem = model_problem(path.name, io, spec) if _has_tensors(spec) else None
            if problem is None:
                found.files[key] = path
                variant = matching_variant(io, spec) if _has_tensors(spec) else spec
                found.labels[key] = variant.label if variant else ""
                wrong.pop(path, None)
                break
            if path in named:
                wrong.setdefault(path, problem)
    for key, spec in profile.models.items():
        if key not in found.files and not spec.optional:
            found.errors.append(
                f"No file for the model '{key}' ({_published_names(spec)}); the "
                f"'{profile.name}' profile needs it."
            )
    for path, problem in wrong.items():
        if path not in found.files.values():
            found.errors.append(problem)
    return found


def _scan(folder: Path) -> tuple[dict[Path, ModelIO | str], list[str]]:
    onnx: dict[Path, ModelIO | str] = {}
    notes: list[str] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        suffix = path.suffix.lower()
        if suffix == ".onnx":
            try:
                onnx[path] = inspect(path)
            except ModelPackError as exc:
                onnx[path] = str(exc)
        elif suffix in UNSAFE_SUFFIXES:
            kind = "a pickle" if suffix in (".pkl", ".pickle") else "code or a checkpoint"
            notes.append(
                f"{path.name} is {kind} and is left out: nothing in a pack is unpickled or "
                "executed."
            )
    return onnx, notes


def detect(folder: str | Path) -> Detection:
    """The profile whose models the folder's files fit best, and what is missing or wrong."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelPackError(f"Folder not found: {folder}; choose the folder that holds the files.")
    onnx, notes = _scan(folder)
    if not onnx:
        raise ModelPackError(
            f"{folder} holds no .onnx file; choose the folder with the downloaded models."
        )
    best: Detection | None = None
    best_score = (0, 0)
    for name in profile_names():
        found = _assign(get_profile(name), onnx)
        required = [k for k, s in get_profile(name).models.items() if not s.optional]
        score = (sum(k in found.files for k in required), len(found.files))
        if score[0] and (best is None or score > best_score):
            best, best_score = found, score
    if best is None:
        raise ModelPackError(
            f"No file in {folder} is a model of a known profile ({', '.join(profile_names())}); "
            "choose the folder with LivePortrait or Ditto ONNX files."
        )
    used = set(best.files.values())
    best.notes = notes + [
        f"{path.name} is not a model of the '{best.profile}' profile and is left out."
        for path in onnx
        if path not in used and not any(path.name in e for e in best.errors)
    ]
    return best


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def pack_toml(folder: Path, found: Detection) -> str:
    """pack.toml in the built-in pack's format: [pack], then [models.KEY] file and sha256."""
    lines = [
        "# Written by `python -m core pack init`; the files' own licenses apply.",
        "[pack]",
        f"name = {_toml_string(folder.resolve().name)}",
        f"profile = {_toml_string(found.profile)}",
        f"license = {_toml_string(LICENSES.get(found.profile, ''))}",
        f"source = {_toml_string('files found in ' + str(folder.resolve()))}",
    ]
    for key, path in found.files.items():
        label = found.labels.get(key)
        lines += [
            "",
            f"[models.{key}]" + (f"  # {label}" if label else ""),
            f"file = {_toml_string(path.name)}",
            f'sha256 = "{sha256_file(path)}"',
        ]
    return "\n".join(lines) + "\n"


def init_pack(folder: str | Path, overwrite: bool = False) -> Detection:
    """Detect the folder's profile, write its pack.toml and open it as a check.

    ModelPackError (one sentence, the first error) when the pack cannot be made; the full
    list is in ``detect(folder).errors``."""
    folder = Path(folder)
    target = folder / "pack.toml"
    if target.exists() and not overwrite:
        raise ModelPackError(
            f"{target} already exists; pass --overwrite to replace it with a new one."
        )
    found = detect(folder)
    if found.errors:
        raise ModelPackError(found.errors[0])
    tmp = target.with_name(".pack.toml.tmp")
    tmp.write_text(pack_toml(folder, found), encoding="utf-8")
    os.replace(tmp, target)
    open_pack(folder, runtime=Runtime(RuntimeConfig("cpu", 1)))
    return found
