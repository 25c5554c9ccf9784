"""A take folder under stress: a full disk still ends run.json as failed, two processes never
write into one take (``--overwrite`` included), and a re-render waits its turn."""

from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import REPO, SAMPLE_AUDIO, SAMPLE_IMAGE, generate_args, run_cli

from core.audio import SAMPLE_RATE, load_audio
from core.errors import OutputError, VasaError
from core.take import frames as take_frames
from core.take.claim import CLAIM_FILE
from core.take.generate import generate
from core.take.record import RESERVE_FILE, TakeFolder
from core.take.rerender import rerender
from core.take.settings import Settings


@pytest.fixture()
def clip(tmp_path) -> Path:
    path = tmp_path / "clip.wav"
    sf.write(path, load_audio(SAMPLE_AUDIO)[:SAMPLE_RATE], SAMPLE_RATE)
    return path


def test_a_disk_that_fills_up_still_ends_run_json_as_failed(clip, tmp_path, monkeypatch):
    """The frames fill the disk, then the final run.json cannot be written either until the
    space held back when the take started is given up."""
    out = tmp_path / "take"
    real_replace, real_unlink = os.replace, os.unlink
    frames_done: list[str] = []
    freed: list[str] = []  # space given back after the disk filled up

    def replace(src, dst, *args, **kwargs):
        name = Path(dst).name
        full = len(frames_done) >= 3
        if name.startswith("frame_"):
            if full:
                raise OSError(errno.ENOSPC, "No space left on device")
            frames_done.append(name)
        if name == "run.json" and full and not freed:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_replace(src, dst, *args, **kwargs)

    def unlink(path, *args, **kwargs):
        if Path(path).name == RESERVE_FILE and len(frames_done) >= 3:
            freed.append(str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(take_frames.os, "replace", replace)
    monkeypatch.setattr(os, "unlink", unlink)
    with pytest.raises(OutputError, match="disk is full"):
        generate(SAMPLE_IMAGE, clip, out, Settings(fps=12))
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "failed" and "disk is full" in record["error"]
    assert record["frames_written"] == 3 and not (out / RESERVE_FILE).exists()


def test_a_complete_take_leaves_no_reserve_or_claim(clip, tmp_path):
    out = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=6))
    assert not (out / RESERVE_FILE).exists() and not (out / CLAIM_FILE).exists()


def _claim_by_live_process(folder: Path) -> subprocess.Popen:
    """A process that stays alive, named as the holder of the take's claim."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    folder.mkdir(parents=True, exist_ok=True)
    info = {"host": socket.gethostname(), "pid": holder.pid, "token": "other", "since": "now"}
    (folder / CLAIM_FILE).write_text(json.dumps(info))
    return holder


def test_overwrite_never_mixes_with_a_take_another_process_is_making(clip, tmp_path):
    out = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=6))
    before = {p.name: p.read_bytes() for p in (out / "frames").iterdir()}
    holder = _claim_by_live_process(out)
    try:
        done = run_cli(*generate_args(SAMPLE_IMAGE, clip, out, "--fps", "6", "--overwrite"))
        assert done.returncode == 2
        assert f"is being made by process {holder.pid} on {socket.gethostname()}" in done.stderr
        assert {p.name: p.read_bytes() for p in (out / "frames").iterdir()} == before
        track = TakeFolder(out).read_track()
        track.data[1, track.index("jawOpen")] = 1.0
        with pytest.raises(OutputError, match="is being written by process"):
            rerender(out, track)
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone: its claim is stale and the next run takes the folder over.
    assert (
        run_cli(*generate_args(SAMPLE_IMAGE, clip, out, "--fps", "6", "--overwrite")).returncode
        == 0
    )
    assert not (out / CLAIM_FILE).exists()


def test_two_generates_racing_into_one_folder_never_mix(clip, tmp_path):
    long = tmp_path / "long.wav"
    sf.write(long, np.tile(load_audio(SAMPLE_AUDIO), 3), SAMPLE_RATE)  # ~6 s to render
    out = tmp_path / "take"
    cmd = [
        sys.executable,
        "-m",
        "core",
        *generate_args(SAMPLE_IMAGE, long, out, "--overwrite", "--quiet"),
    ]
    first = subprocess.Popen(cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out / CLAIM_FILE).exists():
        time.sleep(0.02)
    second = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert second.returncode == 2 and "is being made by process" in second.stderr, second
    record = TakeFolder(out).read_record()
    assert record.status == "complete" and record.frames_written == record.n_frames
    assert not (out / CLAIM_FILE).exists() and os.listdir(out / "frames")


def test_a_full_disk_while_saving_the_motion_is_one_sentence(tmp_path):
    """Run in a process of its own: the old writer left a half-closed zip whose clean-up
    printed a second traceback when the process ended."""
    script = f"""
import errno
from core.errors import OutputError, VasaError
from core.motion import track

class Full:
    def __init__(self, *a, **k): pass
    def __enter__(self): return self
    def __exit__(self, *a): return False
    def write(self, data): raise OSError(errno.ENOSPC, "No space left on device")

track.open = Full
try:
    track.MotionTrack.neutral(2000, 25.0).save({str(tmp_path / "motion.npz")!r})
except OutputError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.strip() == (
        f"The disk is full while writing motion.npz in {tmp_path}; free some space and "
        "generate again."
    )
    assert not list(tmp_path.iterdir())  # no temporary file left


def test_overwrite_replaces_the_whole_take_crops_included(clip, tmp_path):
    out = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=6, output="both"))
    assert list((out / "crop512").iterdir())
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=6, overwrite=True))
    assert not (out / "crop512").exists()  # no crops of the previous take left beside it
    assert TakeFolder(out).read_record().settings.output == "full"


def _write_claim(folder: Path, **info) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    base = {"host": socket.gethostname(), "pid": os.getpid(), "token": "t", "since": "now"}
    (folder / CLAIM_FILE).write_text(json.dumps(base | info))


def test_claims_from_other_hosts_go_stale_and_pids_are_not_mistaken(tmp_path):
    from core.take import claim as claims

    folder = tmp_path / "take"
    _write_claim(folder, host="render-07")  # another host, touched just now: alive
    assert not claims.Claim(folder).acquire()
    old = time.time() - claims.STALE_S - 5
    os.utime(folder / CLAIM_FILE, (old, old))  # not touched for too long: abandoned
    taken = claims.Claim(folder)
    assert taken.acquire()
    taken.release()
    # Our own pid, but a process started at another time (a restarted container): stale.
    _write_claim(folder, started="1")
    again = claims.Claim(folder)
    assert again.acquire()
    again.release()


def test_a_stale_claim_taken_over_twice_is_never_won_twice(tmp_path):
    """Worker B judged the claim stale; before B moved it, A took it over. B must put A's
    claim back, not replace it (the race a review found)."""
    from core.take import claim as claims

    folder = tmp_path / "take"
    _write_claim(folder, pid=2**22 + 7, token="dead")  # no such process
    judged_stale = json.loads((folder / CLAIM_FILE).read_text())
    a = claims.Claim(folder)
    assert a.acquire()
    b = claims.Claim(folder)
    b._take_over(judged_stale)  # B acts on its stale judgement, too late
    assert json.loads((folder / CLAIM_FILE).read_text())["token"] == a.token
    assert not b.acquire()
    a.release()


def test_a_held_claim_is_kept_fresh(tmp_path, monkeypatch):
    from core.take import claim as claims

    monkeypatch.setattr(claims, "REFRESH_S", 0.05)
    folder = tmp_path / "take"
    held = claims.Claim(folder)
    assert held.acquire()
    old = time.time() - 1000
    os.utime(folder / CLAIM_FILE, (old, old))
    time.sleep(0.3)
    assert time.time() - (folder / CLAIM_FILE).stat().st_mtime < 5  # the heartbeat touched it
    held.release()
    assert not (folder / CLAIM_FILE).exists()


def test_a_take_from_before_exif_rotation_is_not_rerendered_into_mixed_sizes(clip, tmp_path):
    out = tmp_path / "take"
    generate(SAMPLE_IMAGE, clip, out, Settings(fps=6))
    values = json.loads((out / "run.json").read_text())
    values["inputs"]["image"]["size"] = [512, 448]  # as a sideways photo was read before
    (out / "run.json").write_text(json.dumps(values))
    track = TakeFolder(out).read_track()
    track.data[1, track.index("jawOpen")] = 1.0
    with pytest.raises(VasaError, match="at 512x448 pixels but it reads as 512x512 now"):
        rerender(out, track)


def test_a_crafted_exr_header_is_refused_at_once(tmp_path):
    import struct

    from core.face.portrait import load_image

    bad = tmp_path / "loop.exr"
    attribute = b"owner\x00string\x00" + struct.pack("<i", -20)
    bad.write_bytes(b"\x76\x2f\x31\x01\x02\x00\x00\x00" + attribute + b"\x00" * 16)
    t0 = time.monotonic()
    with pytest.raises(VasaError):
        load_image(bad)
    assert time.monotonic() - t0 < 5
