"""Architecture contracts, checked on the source text with ``ast``.

* ``core/`` never imports Blender (``bpy`` and Blender's other own modules): the engine runs
  from the command line and in CI without Blender.
* Only ``core/runtime/sessions.py`` imports ``onnxruntime``: one place picks execution
  providers, thread counts and caches sessions.

Imports anywhere in a module count (inside functions, classes, ``if TYPE_CHECKING:``), and so
do ``importlib.import_module("...")`` and ``__import__("...")`` with a literal name. The
checker is itself tested on small sources, and the file walk must find the real files, so
neither contract can pass by looking at nothing.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"

# Modules that exist only inside Blender (or its bpy wheel).
BLENDER_MODULES = ("bpy", "bpy_extras", "bmesh", "mathutils")

# Top-level folders that are not the project's own Python code (hidden folders such as .venv
# and __pycache__ are skipped at any depth).
SKIPPED_TOP = {"tests", "build", "dist", "out", "wheels"}

# The one module that may import onnxruntime, and the documented exceptions to that rule.
ONNXRUNTIME_ALLOWED = {
    "core/runtime/sessions.py": "the project's only ONNX Runtime wrapper",
    # A build-time tool run in its own venv (tools/requirements-convert.txt), never shipped
    # or imported by the extension: it checks that the converted models reproduce TFLite's
    # outputs on a plain CPU session.
    "tools/convert_face_models.py": "build-time model conversion check",
}


def imported_modules(source: str, filename: str = "<string>") -> set[str]:
    """Absolute module names a module imports, wherever the import statement sits."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source, filename)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:  # relative imports stay inside the project
                names.add(node.module)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                called in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and not first.value.startswith(".")
            ):
                names.add(first.value)
    return names


def imports_any(source: str, packages: Iterable[str], filename: str = "<string>") -> list[str]:
    """The imported modules of ``source`` that are ``packages`` or inside them, sorted."""
    tops = tuple(packages)
    return sorted(
        name
        for name in imported_modules(source, filename)
        if any(name == top or name.startswith(top + ".") for top in tops)
    )


def project_files(base: Path, root: Path = ROOT) -> list[Path]:
    """The project's own .py files under ``base`` (no venvs, tests, caches or build output)."""
    out = []
    for path in base.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0] in SKIPPED_TOP:
            continue
        if any(part.startswith(".") or part == "__pycache__" for part in parts):
            continue
        out.append(path)
    return sorted(out)


def violations(
    files: Iterable[Path], packages: Iterable[str], root: Path = ROOT
) -> dict[str, list[str]]:
    """``{path relative to root: forbidden modules it imports}`` for the files that do."""
    tops = tuple(packages)
    found = {}
    for path in files:
        hits = imports_any(path.read_text(encoding="utf-8"), tops, str(path))
        if hits:
            found[path.relative_to(root).as_posix()] = hits
    return found


# --------------------------------------------------------------------------- the checker


@pytest.mark.parametrize(
    "source",
    [
        "import bpy",
        "import bpy.types",
        "import os, bpy",
        "import bpy as b",
        "from bpy import props",
        "from bpy.props import FloatProperty",
        "def f():\n    import bpy\n",
        "class A:\n    def m(self):\n        from bpy import app\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import bpy\n",
        "try:\n    import bpy\nexcept ImportError:\n    bpy = None\n",
        "import importlib\nm = importlib.import_module('bpy')\n",
        "from importlib import import_module\nm = import_module('bpy.props')\n",
        "m = __import__('bpy')\n",
        "import mathutils",
        "from bpy_extras.io_utils import ImportHelper",
    ],
)
def test_checker_flags_blender_imports(source):
    assert imports_any(source, BLENDER_MODULES)


@pytest.mark.parametrize(
    "source",
    [
        "import onnxruntime",
        "import onnxruntime as ort",
        "from onnxruntime import InferenceSession",
        "from onnxruntime.capi import onnxruntime_pybind11_state",
        "def session(path):\n    import onnxruntime as ort\n    return ort.InferenceSession(path)",
        "import importlib\nort = importlib.import_module('onnxruntime')\n",
    ],
)
def test_checker_flags_onnxruntime_imports(source):
    assert imports_any(source, ["onnxruntime"]) != []


@pytest.mark.parametrize(
    "source",
    [
        "import onnx",  # the model format library, not the runtime
        "import bpyish",
        "from .bpy import helper",  # a project module that happens to be called bpy
        "from . import onnxruntime_notes",
        "text = 'import bpy'",
        "# import bpy\n",
        "import importlib\nm = importlib.import_module('.bpy', __package__)\n",
    ],
)
def test_checker_ignores_lookalikes(source):
    assert imports_any(source, BLENDER_MODULES) == []
    assert imports_any(source, ["onnxruntime"]) == []


def test_violations_reports_the_file(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "clean.py").write_text("import numpy\n")
    (tmp_path / "pkg" / "dirty.py").write_text("def f():\n    from bpy import data\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import bpy\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "site.py").write_text("import bpy\n")
    (tmp_path / "pkg" / "__pycache__").mkdir()
    (tmp_path / "pkg" / "__pycache__" / "stale.py").write_text("import bpy\n")
    files = project_files(tmp_path, root=tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in files] == ["pkg/clean.py", "pkg/dirty.py"]
    assert violations(files, BLENDER_MODULES, root=tmp_path) == {"pkg/dirty.py": ["bpy"]}


# --------------------------------------------------------------------------- the contracts


def test_walk_finds_the_project():
    core = project_files(CORE)
    assert len(core) > 30, f"only {len(core)} files under core/: the walk is wrong"
    assert CORE / "runtime" / "sessions.py" in core
    everything = {p.relative_to(ROOT).as_posix() for p in project_files(ROOT)}
    assert "__init__.py" in everything
    for folder in ("core", "vasa_blender", "operators", "ui", "scripts", "tools"):
        assert any(name.startswith(folder + "/") for name in everything), folder
    assert not any(name.startswith(("tests/", ".venv")) for name in everything)


def test_checker_sees_real_imports():
    """On the real tree the checker finds what is known to be there."""
    blender_side = violations(project_files(ROOT / "vasa_blender"), BLENDER_MODULES)
    assert len(blender_side) >= 3, blender_side
    sessions = (CORE / "runtime" / "sessions.py").read_text(encoding="utf-8")
    assert imports_any(sessions, ["onnxruntime"]) == ["onnxruntime"]


def test_core_does_not_import_blender():
    assert violations(project_files(CORE), BLENDER_MODULES) == {}


def test_only_sessions_imports_onnxruntime():
    found = violations(project_files(ROOT), ["onnxruntime"])
    unexpected = {name: hits for name, hits in found.items() if name not in ONNXRUNTIME_ALLOWED}
    assert unexpected == {}, "import onnxruntime only in core/runtime/sessions.py"
    # Every allowed entry still exists and still imports it (no stale exceptions).
    assert set(found) == set(ONNXRUNTIME_ALLOWED)
