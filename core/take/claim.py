"""A claim on a take folder: one worker at a time makes a take, whatever the farm.

The claim is a small JSON file in the take folder (``.claim``: host, process id and its
start time, a token, when), written whole under a private name and linked into place, so
that of two workers only one can make it and nobody reads it half-made. While it is held, a
heartbeat thread touches it every ``REFRESH_S``. A claim is stale when its process is gone
(same host: the pid is not running, or runs another program started at another time) or
when it has not been touched for ``STALE_S`` (another host). A stale claim is taken over by
renaming it aside, which only one worker can do; whoever renamed a claim that was not the
stale one it judged (another worker took it over meanwhile) puts it back.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from pathlib import Path

from ..errors import OutputError
from .frames import output_error

CLAIM_FILE = ".claim"
STALE_S = 600.0  # a claim from another host not touched for this long is abandoned
REFRESH_S = 30.0  # the holder's heartbeat


def _start_time(pid: int) -> str | None:
    """When process ``pid`` started (Linux: clock ticks since boot), to tell a live holder
    from another process that got its pid later; None where it cannot be known."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]


def _alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` (started at ``started``, if known) still runs on this host."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return _alive_windows(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another user
    now = _start_time(pid)
    return started is None or now is None or now == started


def _alive_windows(pid: int) -> bool:
    """``os.kill(pid, 0)`` would send Ctrl-C on Windows: ask for the exit code instead."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)


def _place(source: Path, target: Path) -> None:
    """Make ``target`` hold ``source``'s content, FileExistsError if it is there already:
    a hard link, or, on storage without them, a rename that refuses to replace (a directory
    lock file keeps two such renames apart)."""
    try:
        os.link(source, target)
        return
    except FileExistsError:
        raise
    except OSError:
        pass  # no hard links here (some network shares)
    guard = target.with_name(target.name + ".lock")
    try:
        os.mkdir(guard)  # atomic everywhere
    except FileExistsError:
        raise FileExistsError(target) from None
    try:
        if target.exists():
            raise FileExistsError(target)
        _copy(source, target)
    finally:
        os.rmdir(guard)


def _copy(source: Path, target: Path) -> None:
    staged = target.with_name(target.name + ".new")
    staged.write_bytes(source.read_bytes())
    os.replace(staged, target)  # whole, never half-written


def _read(path: Path) -> tuple[dict | None, float]:
    """The claim's content and age in seconds; (None, 0) when there is none or it is not a
    readable claim (then it is stale: claims are never half-written)."""
    try:
        info = json.loads(path.read_text())
        age = time.time() - path.stat().st_mtime
    except (OSError, ValueError):
        return None, 0.0
    return (info, age) if isinstance(info, dict) else (None, 0.0)


def _live(info: dict | None, age: float) -> bool:
    if info is None:
        return False
    if info.get("host") == socket.gethostname():
        return _alive(int(info.get("pid", -1)), info.get("started"))
    return age < STALE_S


class Claim:
    """Held by this process once ``acquire`` returned True; ``release`` lets it go."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / CLAIM_FILE
        self.token = uuid.uuid4().hex
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def holder(self) -> dict | None:
        """Who holds the claim now (None when nobody, or when the claim is stale)."""
        info, age = _read(self.path)
        return info if _live(info, age) else None

    def acquire(self) -> bool:
        """Claim the folder; False when another live worker holds it."""
        folder = self.path.parent
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder} is a file, not a folder; choose a folder for the take.")
        info = {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started": _start_time(os.getpid()),
            "token": self.token,
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        mine = self.path.with_name(f"{CLAIM_FILE}.{self.token}")
        for _ in range(5):
            try:
                folder.mkdir(parents=True, exist_ok=True)
                mine.write_text(json.dumps(info))
                try:
                    _place(mine, self.path)
                finally:
                    mine.unlink(missing_ok=True)
            except FileExistsError:
                current, age = _read(self.path)
                if _live(current, age):
                    return False
                self._take_over(current)
                continue
            except FileNotFoundError:
                continue  # the folder was removed meanwhile (a worker that gave it up)
            except OSError as exc:
                raise output_error(self.path, exc) from exc
            self._start_heartbeat()
            return True
        return False

    def _take_over(self, stale: dict | None) -> None:
        """Move the claim judged stale (``stale``) aside; if what was moved is another
        claim, made meanwhile and alive, put it back."""
        aside = self.path.with_name(f"{CLAIM_FILE}.stale.{self.token}")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        moved, age = _read(aside)
        same = (moved or {}).get("token") == (stale or {}).get("token")
        if not same and _live(moved, age):
            try:
                os.link(aside, self.path)  # fails if yet another claim stands there now
            except OSError:
                pass
        aside.unlink(missing_ok=True)

    def _start_heartbeat(self) -> None:
        def beat() -> None:
            while not self._stop.wait(REFRESH_S):
                self.refresh()

        self._heartbeat = threading.Thread(target=beat, name="vasa-claim", daemon=True)
        self._heartbeat.start()

    def refresh(self) -> None:
        """Show that the holder still works (for workers on other hosts)."""
        try:
            if (_read(self.path)[0] or {}).get("token") == self.token:
                os.utime(self.path)
        except OSError:
            pass

    def release(self) -> None:
        """Remove the claim if it is still ours, and the folder if nothing else is in it."""
        self._stop.set()
        try:
            if (_read(self.path)[0] or {}).get("token") == self.token:
                self.path.unlink()
                self.path.parent.rmdir()  # only when empty: a clip refused up front
        except OSError:
            pass


def describe(holder: dict) -> str:
    """'process 123 on host-a since ...' for messages."""
    return f"process {holder.get('pid')} on {holder.get('host')} since {holder.get('since')}"
