"""The Flamenco job type (farm/flamenco/talking_head.js) through its Node tests.

tests/js/ holds tests written for Node's built-in runner (``node:test``); they load the job
type with a stand-in of Flamenco's job compiler API and check the tasks it makes. This test
runs them, so that ``make test`` covers the job type. Without ``node`` it is skipped, except
under CI (``CI=true``), where a missing ``node`` is a failure: CI must not pass by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from conftest import REPO

JS_TESTS = REPO / "tests" / "js"


def node_executable() -> str:
    node = shutil.which("node")
    if node is not None:
        return node
    reason = "node is not on PATH (the Flamenco job type tests in tests/js/ need Node 20+)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_flamenco_job_type_node_tests_pass() -> None:
    node = node_executable()
    # `node --test tests/js/`, with the files named rather than the folder: Node 21+ reads
    # the arguments as glob patterns, and named files mean the same to every version.
    files = sorted(str(p.relative_to(REPO)) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs files in {JS_TESTS}"
    result = subprocess.run(
        [node, "--test", "--test-reporter=tap", *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, (
        f"node --test failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
    )
    passed = re.search(r"^# pass (\d+)$", result.stdout, re.MULTILINE)
    assert passed and int(passed.group(1)) > 0, f"no Node test ran:\n{result.stdout}"
    assert re.search(r"^# fail 0$", result.stdout, re.MULTILINE), result.stdout
