"""The test inputs are in the repository; shared_path only adds extra real data."""

from __future__ import annotations

import hashlib

import pytest
from conftest import DATA, PAUSES_AUDIO, PORTRAITS_DIR, SAMPLE_IMAGE, portrait_path, shared_path

MISSING = "no/such/file.wav"


@pytest.mark.parametrize("ci", ["", "true"])
def test_shared_path_skips_a_missing_file(monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="file.wav is not present"):
        shared_path(MISSING)


def test_shared_path_returns_a_present_file(monkeypatch, tmp_path):
    import conftest

    (tmp_path / "audio").mkdir()
    (tmp_path / "audio" / "x.wav").write_bytes(b"")
    monkeypatch.setattr(conftest, "SHARED_DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert shared_path("audio/x.wav") == tmp_path / "audio" / "x.wav"


def test_portraits_resolve_inside_the_repository():
    assert portrait_path("astronaut") == portrait_path("astronaut.png") == SAMPLE_IMAGE
    assert portrait_path("sad.png") == PORTRAITS_DIR / "sad.png"
    for name in ("art_1", "art_16", "full_body_1", "happy", "people_0", "sad"):
        assert portrait_path(name).is_file(), name


def test_every_data_file_is_listed_in_the_readme():
    readme = (DATA / "README.md").read_text()
    for path in DATA.rglob("*"):
        if path.is_file() and path.name != "README.md":
            assert f"`{path.relative_to(DATA).as_posix()}`" in readme, path


def test_copies_are_unchanged():
    """The copied portraits and audio match the sha256 sums the README gives for them."""
    readme = (DATA / "README.md").read_text()
    copies = [*PORTRAITS_DIR.iterdir(), *PAUSES_AUDIO.parent.iterdir()]
    assert PAUSES_AUDIO in copies
    for path in copies:
        assert hashlib.sha256(path.read_bytes()).hexdigest() in readme, path
