"""The Open Job Description template in farm/openjd/: it validates with ``openjd check``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

TEMPLATE = REPO / "farm" / "openjd" / "talking_head.template.yaml"
OPENJD = Path(sys.executable).with_name("openjd")


def openjd(*args: str | Path, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    if not OPENJD.is_file():
        pytest.fail(f"{OPENJD} is missing: install requirements-dev.txt (openjd-cli)")
    return subprocess.run(
        [str(OPENJD), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_template_passes_openjd_check():
    result = openjd("check", TEMPLATE, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passes validation checks" in result.stdout


def test_both_steps_embed_the_same_launcher():
    steps = {step["name"]: step for step in yaml.safe_load(TEMPLATE.read_text())["steps"]}
    assert list(steps) == ["Render", "Summary"]
    assert steps["Summary"]["dependencies"] == [{"dependsOn": "Render"}]
    launchers = [step["script"]["embeddedFiles"] for step in steps.values()]
    assert launchers[0] == launchers[1]
