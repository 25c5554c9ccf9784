"""Model packs: a folder with ``pack.toml`` and ONNX files, checked when opened.

A pack names its *profile* (``profiles``), and the profile's table says which models it
must hold and which tensor names, shapes and element types each must have. A wrong,
truncated or swapped file therefore fails here with a sentence that names the file and what
was expected, never deep inside ONNX Runtime during a render.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelPackError
from .model_files import inspect, model_problem
from .profiles import get_profile
from .sessions import Runtime, default_runtime

BUILTIN_PACK_DIR = Path(__file__).resolve().parents[1] / "builtin_pack"


@dataclass
class ModelPack:
    """An opened, verified pack. ``session(key)`` gives a ready ONNX Runtime session."""

    folder: Path
    name: str
    profile: str
    license: str
    files: dict[str, Path]
    sha256: dict[str, str]
    runtime: Runtime = field(default_factory=default_runtime)

    def session(self, key: str):
        return self.runtime.session(self.files[key], name=f"{self.name}/{self.files[key].name}")

    def describe(self) -> dict[str, object]:
        return {
            "name": self.name,
            "profile": self.profile,
            "folder": str(self.folder),
            "license": self.license,
            "sha256": dict(self.sha256),
        }


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (model files and inputs can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_toml(folder: Path) -> dict:
    toml_path = folder / "pack.toml"
    if not folder.is_dir():
        raise ModelPackError(f"Model pack folder not found: {folder}; choose an existing folder.")
    if not toml_path.is_file():
        raise ModelPackError(
            f"{folder} is not a model pack (no pack.toml); choose the folder that holds it."
        )
    try:
        return tomllib.loads(toml_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ModelPackError(f"{toml_path} is not valid TOML ({exc}); fix or replace it.") from exc


def open_pack(
    folder: str | Path | None = None, runtime: Runtime | None = None, verify_hashes: bool = True
) -> ModelPack:
    """Open and verify a pack folder (the built-in pack when ``folder`` is None)."""
    folder = Path(folder) if folder else BUILTIN_PACK_DIR
    meta = _read_toml(folder)
    info = meta.get("pack", {})
    profile = get_profile(info.get("profile", ""), str(folder / "pack.toml"))
    runtime = runtime or default_runtime()
    files: dict[str, Path] = {}
    digests: dict[str, str] = {}
    models = meta.get("models", {})
    for key, spec in profile.models.items():
        entry = models.get(key)
        if spec.optional and (not entry or "file" not in entry):
            continue
        if not entry or "file" not in entry:
            raise ModelPackError(
                f"{folder / 'pack.toml'} lists no [models.{key}] file; the '{profile.name}' "
                "profile needs it."
            )
        path = folder / entry["file"]
        if not path.is_file():
            raise ModelPackError(f"Model file missing: {path}; restore it or re-install the pack.")
        digest = sha256_file(path)
        if verify_hashes and entry.get("sha256") and entry["sha256"] != digest:
            raise ModelPackError(
                f"Model file {path.name} does not match the sha256 in pack.toml (damaged or "
                "replaced); restore the original file."
            )
        # Checked as data (no pickles, the ONNX checker, the tensors) before a session exists.
        problem = model_problem(path.name, inspect(path), spec)
        if problem:
            raise ModelPackError(problem)
        sess = runtime.session(path, name=f"{info.get('name', folder.name)}/{path.name}")
        problem = model_problem(path.name, sess, spec)
        if problem:
            raise ModelPackError(problem)
        files[key] = path
        digests[key] = digest
    return ModelPack(
        folder,
        info.get("name", folder.name),
        profile.name,
        info.get("license", ""),
        files,
        digests,
        runtime,
    )
